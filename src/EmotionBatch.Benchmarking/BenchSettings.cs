namespace EmotionBatch.Benchmarking;

/// <summary>What the bench runs on; filled from the command line.</summary>
public sealed class BenchSettings
{
    public string BundlePath { get; set; } = "models/default";
    public double Minutes { get; set; } = 8;
    public int Recordings { get; set; } = 4;
    public string? WhisperModel { get; set; }
    /// <summary>Seconds of speech per Whisper call (EmotionBatch:Transcription:PackSeconds) for the packed ASR row and the pipeline.</summary>
    public double PackSeconds { get; set; } = Transcription.PackedWindows.WhisperWindowSeconds;
    /// <summary>Tokens per segment the bench lets Whisper decode: random weights would otherwise run to the context limit.</summary>
    public int WhisperMaxTokens { get; set; } = 24;
    /// <summary>Time ASR with one call per utterance too (slow with large models: then estimated from the cost split).</summary>
    public bool MeasurePerUtteranceAsr { get; set; } = true;
    /// <summary>Whisper language (EmotionBatch:Transcription:Language); "auto" costs one more encoder pass per call.</summary>
    public string WhisperLanguage { get; set; } = Transcription.TranscriptionOptions.AutoLanguage;
    /// <summary>whisper.cpp flash attention (EmotionBatch:Transcription:FlashAttention).</summary>
    public bool FlashAttention { get; set; } = new Transcription.TranscriptionOptions().FlashAttention;
    /// <summary>ONNX Runtime intra-op threads (and Whisper threads); 0 = one per CPU the process sees.</summary>
    public int Threads { get; set; }
    public int Repeat { get; set; } = 3;
    public int BatchSize { get; set; } = 16;
    /// <summary>Interleaved rounds of the C# wrapper against raw ORT (at least <see cref="Repeat"/>).</summary>
    public int OverheadRounds { get; set; } = 15;
    public string VadModel { get; set; } = Audio.SileroVadModel.DefaultRelativePath;
    /// <summary>Silero lanes per batch (EmotionBatch:Vad:Lanes) for the VAD stage and the pipeline.</summary>
    public int VadLanes { get; set; } = new Audio.VadOptions().Lanes;
    /// <summary>Where recordings and outputs go; a fresh temporary folder when null.</summary>
    public string? WorkFolder { get; set; }
    public int Seed { get; set; } = 17;
    /// <summary>ONNX Runtime intra-op spinning (EmotionBatch:Model:IntraOpSpinning).</summary>
    public bool Spinning { get; set; }
    /// <summary>Folder holding the ffmpeg to decode with (EmotionBatch:Decoder:FfmpegFolder); null = the one on PATH.</summary>
    public string? FfmpegFolder { get; set; }

    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}

/// <param name="Elapsed">The pass alone, host start-up and model loading excluded.</param>
public sealed record PipelineRunResult(int Completed, int Failed, int Utterances, double AudioSeconds, TimeSpan Elapsed, double CpuSeconds);

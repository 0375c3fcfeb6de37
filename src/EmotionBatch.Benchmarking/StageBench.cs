using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using EmotionBatch.Audio;
using EmotionBatch.Core;
using EmotionBatch.Inference;
using EmotionBatch.Inference.Bundles;
using EmotionBatch.Transcription;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Benchmarking;

/// <summary>
/// Times each stage alone on the same generated recordings (each stage fed the previous stage's output, prepared
/// beforehand), then the whole pipeline through the host, and prints the table and ratios.
/// </summary>
public sealed class StageBench
{
    private readonly BenchSettings _settings;
    private readonly TextWriter _out;
    private string _work = "";

    public StageBench(BenchSettings settings, TextWriter output)
    {
        _settings = settings;
        _out = output;
    }

    /// <summary>A host over the generated recordings writing to a fresh <paramref name="output"/>, with <paramref name="overrides"/> applied.</summary>
    private BenchHost Host(string output, IReadOnlyDictionary<string, string?>? overrides = null) =>
        BenchHost.Create(_settings, Path.Combine(_work, "recordings"), FreshFolder(Path.Combine(_work, output)), Path.Combine(_work, "work"), overrides);

    public async Task<int> RunAsync(string folder, CancellationToken cancellationToken)
    {
        var s = _settings;
        var loadBefore = MachineInfo.LoadAverage();
        _out.WriteLine($"machine: {MachineInfo.Describe()}");
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"settings: bundle {s.BundlePath}, {s.Minutes} min in {s.Recordings} recordings, threads {s.EffectiveThreads}{(s.Spinning ? " (spinning)" : "")}, batch {s.BatchSize}, VAD lanes {s.VadLanes}, repeat {s.Repeat}, seed {s.Seed}, ffmpeg {s.FfmpegFolder ?? "on PATH"}"));
        _out.WriteLine($"load average at start: {loadBefore}");

        var generate = Stopwatch.StartNew();
        var corpus = new BenchCorpus(folder, s.Seed);
        var recordings = await corpus.CreateRecordingsAsync("recordings", s.Recordings, s.Minutes * 60, cancellationToken).ConfigureAwait(false);
        var audioSeconds = recordings.Sum(r => r.Seconds);
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"generated {recordings.Count} recordings ({string.Join(", ", recordings.Select(r => r.Format))}), {audioSeconds:0} s of audio, in {generate.Elapsed.TotalSeconds:0.0} s"));

        var stages = new List<StageResult>();
        _work = folder;
        // Every stage below is the service the worker's host registers, configured as `emotionbatch` would be.
        using var host = Host("stages-out");

        // Decode: ffmpeg to float PCM, chunks kept for the VAD stage.
        var decoder = host.Get<IAudioDecoder>();
        List<PcmChunk>[] pcm = [];
        var ffmpegCpu = new List<double>();
        var decode = await MeasureAsync(async () =>
        {
            var children = CpuClock.ChildrenSeconds();
            pcm = new List<PcmChunk>[recordings.Count];
            for (var r = 0; r < recordings.Count; r++)
            {
                pcm[r] = [];
                await using var audio = await decoder.OpenAsync(recordings[r].Path, cancellationToken).ConfigureAwait(false);
                await foreach (var chunk in audio.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    pcm[r].Add(chunk);
                }
            }
            ffmpegCpu.Add(CpuClock.ChildrenSeconds() - children);
        }).ConfigureAwait(false);
        var decodedSeconds = pcm.Sum(p => p.Sum(c => c.Samples.Length)) / (double)IAudioDecoder.SampleRate;

        // VAD on the decoded PCM.
        var segmenter = host.Get<ISpeechSegmenter>();
        List<Utterance>[] utterances = [];
        var vad = await MeasureAsync(async () =>
        {
            utterances = new List<Utterance>[recordings.Count];
            for (var r = 0; r < recordings.Count; r++)
            {
                utterances[r] = [];
                await foreach (var u in segmenter.SegmentAsync(Replay(pcm[r]), VadPass.Primary, cancellationToken).ConfigureAwait(false))
                {
                    utterances[r].Add(u);
                }
            }
        }).ConfigureAwait(false);
        pcm = [];
        var all = utterances.SelectMany(u => u).ToList();
        var count = all.Count;
        stages.Add(Row("decode (ffmpeg -> f32 PCM)", decode, decodedSeconds, count,
            string.Create(CultureInfo.InvariantCulture, $"ffmpeg itself {Median(ffmpegCpu):0.000} s CPU")));
        stages.Add(Row("VAD (Silero, 32 ms windows)", vad, decodedSeconds, count));

        // ASR, or fixed sentences standing in for transcripts so the text encoder is exercised either way.
        var transcripts = new string?[count];
        string? asrNote = null;
        var asrLines = new List<string>();
        if (s.WhisperModel is { } whisperModel)
        {
            var speechSeconds = all.Sum(u => u.DurationSeconds);
            AsrRun? perUtterance = null;
            if (s.MeasurePerUtteranceAsr)
            {
                perUtterance = await MeasureAsrAsync(utterances, packSeconds: 0, cancellationToken).ConfigureAwait(false);
                stages.Add(Row("ASR, one call per utterance", perUtterance.Timings, decodedSeconds, count, perUtterance.Describe(decodedSeconds)));
            }
            else
            {
                stages.Add(StageResult.Skipped("ASR, one call per utterance", "skipped (--no-per-utterance-asr); estimated below at one encoder run per utterance"));
            }
            var packed = await MeasureAsrAsync(utterances, s.PackSeconds, cancellationToken).ConfigureAwait(false);
            stages.Add(Row(string.Create(CultureInfo.InvariantCulture, $"ASR, packed windows ({s.PackSeconds:0} s)"), packed.Timings, decodedSeconds, count,
                packed.Describe(decodedSeconds)));
            for (var i = 0; i < count; i++)
            {
                transcripts[i] = packed.Transcripts[i]?.Text;
            }
            var cost = await MeasureAsrCostAsync(utterances, cancellationToken).ConfigureAwait(false);
            // Random weights often end a segment after a token or two (their timestamp tokens win), so the split may see
            // too few tokens to time one; then the estimates below count the encoder runs only, and say so.
            var tokenSeconds = cost.FullTokens - cost.BriefTokens >= MinTokensToTime && cost.TokenSeconds > 0 ? cost.TokenSeconds : double.NaN;
            asrLines.Add(string.Create(CultureInfo.InvariantCulture,
                $"ASR cost ({Path.GetFileName(whisperModel)}, {s.EffectiveThreads} threads): {cost.EncoderRunSeconds:0.000} s per encoder run (call overhead included, {cost.Calls} windows); per decoded token: ") +
                (double.IsNaN(tokenSeconds)
                    ? string.Create(CultureInfo.InvariantCulture, $"not measurable (the random weights decoded {cost.BriefTokens} and {cost.FullTokens} tokens with caps of 1 and {AsrCostTokens} per segment)")
                    : string.Create(CultureInfo.InvariantCulture, $"{tokenSeconds * 1000:0.0} ms ({cost.BriefTokens} and {cost.FullTokens} tokens with caps of 1 and {AsrCostTokens})")));
            var estimates = new List<(string Name, double Seconds)>();
            foreach (var (name, encoderRuns) in new[]
            {
                ("one call per utterance", perUtterance is null ? count * (s.WhisperLanguage == TranscriptionOptions.AutoLanguage ? 2.0 : 1.0) : perUtterance.EncoderRuns),
                ("packed windows", packed.EncoderRuns),
            })
            {
                // What real speech would cost: the encoder runs measured, and 3 decoded tokens per second of speech.
                var tokens = double.IsNaN(tokenSeconds) ? 0 : AsrTokensPerSpeechSecond * speechSeconds * tokenSeconds;
                var estimate = encoderRuns * cost.EncoderRunSeconds + tokens;
                estimates.Add((name, estimate));
                var what = double.IsNaN(tokenSeconds) ? "encoder runs only" : $"at {AsrTokensPerSpeechSecond} tokens per second of speech";
                asrLines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"ASR estimate ({what}), {name}: {estimate:0.0} s for {decodedSeconds:0} s of audio ({decodedSeconds / estimate:0.0}x real time; {encoderRuns / (decodedSeconds / 60):0.0} encoder runs per audio minute)"));
            }
            var measured = perUtterance is null
                ? ""
                : string.Create(CultureInfo.InvariantCulture, $" (measured with the random weights: {Median(perUtterance.Timings.Wall) / Median(packed.Timings.Wall):0.0}x)");
            asrLines.Add(string.Create(CultureInfo.InvariantCulture,
                $"packed windows against one call per utterance, estimated: {estimates[0].Seconds / estimates[1].Seconds:0.0}x faster") + measured);
            var empty = transcripts.Count(string.IsNullOrWhiteSpace);
            if (empty > 0)
            {
                asrNote = $"{empty} of {count} transcripts empty; fixed sentences stand in for them in the text stages";
            }
        }
        else
        {
            stages.Add(StageResult.Skipped("ASR (Whisper.net)", "skipped (no model: --whisper-model)"));
        }
        for (var i = 0; i < count; i++)
        {
            if (string.IsNullOrWhiteSpace(transcripts[i]))
            {
                transcripts[i] = BenchCorpus.Sentences[i % BenchCorpus.Sentences.Count];
            }
        }

        // Batches exactly as the pipeline forms them: per recording, sorted by length inside windows.
        var plan = new List<int[]>();
        var offset = 0;
        foreach (var perRecording in utterances)
        {
            foreach (var batch in LengthBatching.Windowed(perRecording.Select(u => u.Samples.Length).ToArray(), s.BatchSize, LengthBatching.WindowSize(s.BatchSize)))
            {
                plan.Add(batch.Select(i => i + offset).ToArray());
            }
            offset += perRecording.Count;
        }
        var lengths = all.Select(u => u.Samples.Length).ToArray();

        var model = host.Get<OnnxEmotionModel>();
        var bundle = model.LoadedBundle;
        using var raw = new RawEmotionGraphs(bundle, host.Get<IOptions<ModelOptions>>().Value);
        var tokenizer = model.TextEncoder.Tokenizer;

        var withText = new List<PreparedBatch>();
        var audioOnly = new List<PreparedBatch>();
        var inputsWithText = new List<EmotionInput[]>();
        var inputsAudioOnly = new List<EmotionInput[]>();
        foreach (var batch in plan)
        {
            var waves = batch.Select(i => (ReadOnlyMemory<float>)all[i].Samples).ToArray();
            withText.Add(raw.Prepare(waves, batch.Select(i => tokenizer.Encode(transcripts[i]!)).ToArray()));
            audioOnly.Add(raw.Prepare(waves, null));
            inputsWithText.Add(batch.Select(i => new EmotionInput(all[i].Samples, transcripts[i])).ToArray());
            inputsAudioOnly.Add(batch.Select(i => new EmotionInput(all[i].Samples, null)).ToArray());
        }

        try
        {
            // Warm-up: first runs allocate arenas and pick kernels.
            raw.Run(withText[0]);
            model.Predict(inputsWithText[0], cancellationToken);
            var parity = ParityCheck(raw, model, withText[0], inputsWithText[0]);

            // C# wrapper against raw ORT, batch by batch: each batch runs both ways back to back, the order alternating,
            // so background load hits both sides alike; each round's ratio of totals is kept for the spread.
            var rawTimes = new List<GraphTimes>();
            var csharpText = new Timings([], []);
            var csharpAudio = new Timings([], []);
            var rawAudio = new List<double>();
            var ratioText = new List<double>();
            var ratioAudio = new List<double>();
            IReadOnlyList<EmotionPrediction>[] predictions = new IReadOnlyList<EmotionPrediction>[plan.Count];
            var rounds = Math.Max(s.Repeat, s.OverheadRounds);
            for (var round = 0; round < rounds; round++)
            {
                var raw3 = default(GraphTimes);
                double cs3 = 0, rawA = 0, csA = 0, cs3Cpu = 0, csACpu = 0;
                for (var b = 0; b < plan.Count; b++)
                {
                    var rawFirst = (round + b) % 2 == 0;
                    var index = b;
                    (double Wall, double Cpu) CSharp(EmotionInput[] inputs) => TimeWithCpu(() => predictions[index] = model.Predict(inputs, cancellationToken));
                    void WithText()
                    {
                        var (wall, cpu) = CSharp(inputsWithText[b]);
                        cs3 += wall;
                        cs3Cpu += cpu;
                    }
                    void AudioOnly()
                    {
                        var (wall, cpu) = CSharp(inputsAudioOnly[b]);
                        csA += wall;
                        csACpu += cpu;
                    }
                    if (rawFirst)
                    {
                        raw3 += raw.Run(withText[b]);
                        WithText();
                        rawA += raw.Run(audioOnly[b]).Total;
                        AudioOnly();
                    }
                    else
                    {
                        WithText();
                        raw3 += raw.Run(withText[b]);
                        AudioOnly();
                        rawA += raw.Run(audioOnly[b]).Total;
                    }
                }
                rawTimes.Add(raw3);
                csharpText.Wall.Add(cs3);
                csharpText.Cpu.Add(cs3Cpu);
                rawAudio.Add(rawA);
                csharpAudio.Wall.Add(csA);
                csharpAudio.Cpu.Add(csACpu);
                ratioText.Add(cs3 / raw3.Total);
                ratioAudio.Add(csA / rawA);
            }

            stages.Add(Row("acoustic encoder (ORT)", rawTimes.Select(t => t.Acoustic).ToList(), decodedSeconds, count));
            stages.Add(Row("text encoder (ORT)", rawTimes.Select(t => t.Text).ToList(), decodedSeconds, count, "fixed sentences" + (s.WhisperModel is null ? "" : " or ASR text")));
            stages.Add(Row("fusion head (ORT)", rawTimes.Select(t => t.Fusion).ToList(), decodedSeconds, count));
            stages.Add(Row("emotion, raw ORT (3 graphs)", rawTimes.Select(t => t.Total).ToList(), decodedSeconds, count));
            stages.Add(Row("emotion, C# OnnxEmotionModel", csharpText, decodedSeconds, count));
            stages.Add(Row("emotion, raw ORT, audio only", rawAudio, decodedSeconds, count));
            stages.Add(Row("emotion, C#, audio only", csharpAudio, decodedSeconds, count, "what the pipeline runs without ASR"));

            // Parquet: the result store's commit (rows, ledger records, atomic rename) per recording.
            var rows = BuildRows(recordings, utterances, plan, predictions, bundle.Info);
            // One store per repeat (each with a fresh output), made before timing: the row times the commits only.
            var writers = Enumerable.Range(0, s.Repeat).Select(i => Host($"parquet-{i}")).ToList();
            var stores = writers.ConvertAll(writer => writer.Get<IResultStore>());
            var writes = 0;
            Timings parquet;
            try
            {
                parquet = await MeasureAsync(async () =>
                {
                    var store = stores[writes++];
                    for (var r = 0; r < recordings.Count; r++)
                    {
                        await store.CommitAsync(rows[r].Recording, rows[r].Rows, cancellationToken).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
            }
            finally
            {
                writers.ForEach(writer => writer.Dispose());
            }
            stages.Add(Row("Parquet write (commit)", parquet, decodedSeconds, count));

            StageResult? pipeline = null;
            {
                var runs = new Timings([], []);
                var pipelineUtterances = 0;
                for (var rep = 0; rep < s.Repeat; rep++)
                {
                    // A fresh output each time: a kept --work folder holds earlier outputs, which the worker would rightly skip.
                    using var pass = Host($"pipeline-out-{rep}");
                    var result = await pass.RunPassAsync(cancellationToken).ConfigureAwait(false);
                    if (result.Failed > 0)
                    {
                        _out.WriteLine($"warning: {result.Failed} recordings failed in the pipeline run");
                    }
                    runs.Wall.Add(result.Elapsed.TotalSeconds);
                    runs.Cpu.Add(result.CpuSeconds);
                    pipelineUtterances = result.Utterances;
                }
                pipeline = Row("whole pipeline (host, BatchRunner)", runs, decodedSeconds, pipelineUtterances,
                    s.WhisperModel is null ? "decode+VAD+emotion+write" : "with ASR");
                stages.Add(pipeline);
            }

            _out.WriteLine();
            BenchReport.WriteTable(_out, stages);
            _out.WriteLine();
            WriteRatios(stages, pipeline, s.WhisperModel is not null, plan, lengths, utterances, parity, ratioText, ratioAudio);
            foreach (var line in asrLines)
            {
                _out.WriteLine(line);
            }
            if (asrNote is not null)
            {
                _out.WriteLine($"note: {asrNote}");
            }
        }
        finally
        {
            foreach (var b in withText.Concat(audioOnly))
            {
                b.Dispose();
            }
        }

        _out.WriteLine($"peak resident memory of this process: {BenchReport.Mib(MachineInfo.PeakResidentBytes())}");
        _out.WriteLine($"load average at end: {MachineInfo.LoadAverage()} (start: {loadBefore})");
        return 0;
    }

    private void WriteRatios(
        List<StageResult> stages, StageResult? pipeline, bool asr, List<int[]> plan, int[] lengths, List<Utterance>[] utterances, double parity,
        List<double> ratioText, List<double> ratioAudio)
    {
        StageResult Get(string prefix) => stages.First(x => x.Stage.StartsWith(prefix, StringComparison.Ordinal));
        var csText = Get("emotion, C# OnnxEmotionModel");
        var csAudio = Get("emotion, C#, audio");
        string Spread(List<double> ratios)
        {
            var sorted = ratios.Order().ToArray();
            double At(double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];
            return string.Create(CultureInfo.InvariantCulture,
                $"{At(0.5):0.000}x ({(At(0.5) - 1) * 100:+0.0;-0.0;+0.0}%, quartiles {At(0.25):0.000}-{At(0.75):0.000})");
        }
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"C# OnnxEmotionModel vs raw InferenceSession.Run on identical batches, median of {ratioText.Count} interleaved rounds: " +
            $"{Spread(ratioText)} with text, {Spread(ratioAudio)} audio only; max |p_C# - softmax(raw logits)| = {parity:0.0e0}"));

        var pipelineStages = new List<StageResult> { Get("decode"), Get("VAD"), asr ? csText : csAudio, Get("Parquet") };
        if (asr)
        {
            pipelineStages.Add(Get("ASR, packed"));
        }
        var slowest = pipelineStages.MaxBy(x => x.Seconds)!;
        var serial = pipelineStages.Sum(x => x.Seconds);
        if (pipeline is not null)
        {
            _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"whole pipeline / slowest stage alone ({slowest.Stage}): {pipeline.Seconds / slowest.Seconds:0.00}x; " +
                $"/ sum of its stages run one after another: {pipeline.Seconds / serial:0.00}x"));
            // Overlap can hide a stage's wall time but not its CPU: on few cores the sum of the stages' CPU can bound
            // the run more tightly than the slowest stage does.
            var stageCpu = pipelineStages.Sum(x => x.CpuSeconds);
            if (!double.IsNaN(stageCpu))
            {
                var cores = Environment.ProcessorCount;
                var bound = Math.Max(slowest.Seconds, stageCpu / cores);
                _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"CPU (user + system, ffmpeg included): stages alone {stageCpu:0.00} s ({string.Join(", ", pipelineStages.Select(x => $"{x.Stage.Split(" (")[0]} {x.CpuSeconds:0.00}"))}), " +
                    $"whole pipeline {pipeline.CpuSeconds:0.00} s; on {cores} cores no overlap beats max(slowest stage alone, stages' CPU / cores) = {bound:0.000} s, " +
                    $"and the whole pipeline takes {pipeline.Seconds / bound:0.00}x that"));
            }
        }

        var arrival = new List<int[]>();
        var globalSorted = new List<int[]>();
        var offset = 0;
        foreach (var perRecording in utterances)
        {
            var n = perRecording.Count;
            arrival.AddRange(Enumerable.Range(offset, n).Chunk(_settings.BatchSize));
            globalSorted.AddRange(LengthBatching.Windowed(perRecording.Select(u => u.Samples.Length).ToArray(), _settings.BatchSize, Math.Max(1, perRecording.Count))
                .Select(b => b.Select(i => i + offset).ToArray()));
            offset += n;
        }
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"padding waste of acoustic batches (padded samples that are not audio): arrival order {BatchPlan.PaddingWaste(arrival, lengths):P1}, " +
            $"sorted in windows of {LengthBatching.WindowSize(_settings.BatchSize)} utterances (used) {BatchPlan.PaddingWaste(plan, lengths):P1}, whole recording sorted {BatchPlan.PaddingWaste(globalSorted, lengths):P1}; " +
            $"{lengths.Length} utterances, mean {lengths.Average() / IAudioDecoder.SampleRate:0.00} s, {plan.Count} batches"));
    }

    private static double ParityCheck(RawEmotionGraphs raw, OnnxEmotionModel model, PreparedBatch batch, EmotionInput[] inputs)
    {
        var logits = new float[batch.Count * EmotionLabels.All.Count];
        raw.Run(batch, logits);
        var predicted = model.Predict(inputs);
        var worst = 0.0;
        for (var b = 0; b < batch.Count; b++)
        {
            var row = logits.AsSpan(b * 4, 4);
            var max = row[0];
            foreach (var v in row)
            {
                max = Math.Max(max, v);
            }
            var e = new double[4];
            for (var k = 0; k < 4; k++)
            {
                e[k] = Math.Exp(row[k] - max);
            }
            var sum = e.Sum();
            float[] p = [predicted[b].ProbabilityAngry, predicted[b].ProbabilityHappy, predicted[b].ProbabilitySad, predicted[b].ProbabilityNeutral];
            for (var k = 0; k < 4; k++)
            {
                worst = Math.Max(worst, Math.Abs(e[k] / sum - p[k]));
            }
        }
        return worst;
    }

    private static List<(RecordingRef Recording, List<UtteranceRow> Rows)> BuildRows(
        IReadOnlyList<BenchRecording> recordings, List<Utterance>[] utterances, List<int[]> plan, IReadOnlyList<EmotionPrediction>[] predictions, ModelBundleInfo bundle)
    {
        var byIndex = new EmotionPrediction[utterances.Sum(u => u.Count)];
        for (var b = 0; b < plan.Count; b++)
        {
            for (var i = 0; i < plan[b].Length; i++)
            {
                byIndex[plan[b][i]] = predictions[b][i];
            }
        }
        var result = new List<(RecordingRef, List<UtteranceRow>)>();
        var offset = 0;
        var now = DateTime.UtcNow;
        for (var r = 0; r < recordings.Count; r++)
        {
            var file = new FileInfo(recordings[r].Path);
            var recording = new RecordingRef(file.Name, new Uri(file.FullName), $"bench-{r}", file.Length, file.LastWriteTimeUtc);
            var rows = new List<UtteranceRow>();
            foreach (var u in utterances[r])
            {
                rows.Add(UtteranceRows.Create(recording, u, transcript: null, byIndex[offset + u.Index], bundle, now));
            }
            offset += utterances[r].Count;
            result.Add((recording, rows));
        }
        return result;
    }

    private const int AsrTokensPerSpeechSecond = 3;
    private const int AsrCostTokens = 24;
    private const int MinTokensToTime = 50;

    /// <summary>One transcription pass's cost, per repeat.</summary>
    private sealed record AsrRun(Timings Timings, IReadOnlyList<Transcript?> Transcripts, double Calls, double EncoderRuns, double Tokens)
    {
        public string Describe(double audioSeconds) => string.Create(CultureInfo.InvariantCulture,
            $"{Calls / (audioSeconds / 60):0.0} calls and {EncoderRuns / (audioSeconds / 60):0.0} encoder runs per audio minute, {Tokens:0} tokens");
    }

    /// <summary>
    /// A host whose Whisper settings differ from the bench's: random weights would decode to the context limit, so
    /// tokens are capped (and fallback is off, <see cref="BenchHost"/>).
    /// </summary>
    private BenchHost AsrHost(double packSeconds, int maxTokens, double temperature = 0) => Host("asr-out", new Dictionary<string, string?>
    {
        ["EmotionBatch:Transcription:PackSeconds"] = packSeconds.ToString(CultureInfo.InvariantCulture),
        ["EmotionBatch:Transcription:MaxTokensPerSegment"] = maxTokens.ToString(CultureInfo.InvariantCulture),
        ["EmotionBatch:Transcription:Temperature"] = temperature.ToString(CultureInfo.InvariantCulture),
    });

    /// <summary>Transcribes every recording's utterances as the pipeline does (per channel, in time order).</summary>
    private async Task<AsrRun> MeasureAsrAsync(List<Utterance>[] utterances, double packSeconds, CancellationToken cancellationToken)
    {
        using var host = AsrHost(packSeconds, _settings.WhisperMaxTokens);
        var whisper = host.Get<WhisperTranscriber>();
        var transcripts = new List<Transcript?>();
        var timings = await MeasureAsync(async () =>
        {
            transcripts.Clear();
            foreach (var recording in utterances)
            {
                transcripts.AddRange(await whisper.TranscribeAsync(recording, cancellationToken).ConfigureAwait(false));
            }
        }).ConfigureAwait(false);
        return new AsrRun(timings, transcripts, whisper.Counters.Calls / (double)_settings.Repeat, whisper.Counters.EncoderRuns / (double)_settings.Repeat,
            whisper.Counters.Tokens / (double)_settings.Repeat);
    }

    private sealed record AsrCost(double EncoderRunSeconds, double TokenSeconds, int Calls, long BriefTokens, long FullTokens);

    /// <summary>
    /// Separates the cost of an encoder run from that of a decoded token: the same packed windows decoded to one token
    /// per segment and to <see cref="AsrCostTokens"/>; the difference in time over the difference in tokens is a token's
    /// cost, the rest an encoder run's. Tokens are sampled at temperature 1, so random weights do not end a segment
    /// early (greedy decoding of noise often picks the end token at once) and every segment decodes to the cap.
    /// </summary>
    private async Task<AsrCost> MeasureAsrCostAsync(List<Utterance>[] utterances, CancellationToken cancellationToken)
    {
        var windows = PackedWindows.Pack(utterances.SelectMany(u => u).ToList(), _settings.PackSeconds, PackedTranscriber.MinimumSamples).Take(4).ToList();
        async Task<(double Seconds, long Runs, long Tokens)> TimeAsync(int maxTokens)
        {
            using var host = AsrHost(_settings.PackSeconds, maxTokens, temperature: 1);
            var whisper = host.Get<WhisperTranscriber>();
            await whisper.RecognizeAsync(windows[0].Samples, cancellationToken).ConfigureAwait(false); // warm-up: first-call allocations
            var before = (whisper.Counters.EncoderRuns, whisper.Counters.Tokens);
            var clock = Stopwatch.StartNew();
            foreach (var window in windows)
            {
                await whisper.RecognizeAsync(window.Samples, cancellationToken).ConfigureAwait(false);
            }
            return (clock.Elapsed.TotalSeconds, whisper.Counters.EncoderRuns - before.EncoderRuns, whisper.Counters.Tokens - before.Tokens);
        }
        var brief = await TimeAsync(1).ConfigureAwait(false);
        var full = await TimeAsync(AsrCostTokens).ConfigureAwait(false);
        var tokenSeconds = full.Tokens > brief.Tokens ? Math.Max(0, (full.Seconds - brief.Seconds) / (full.Tokens - brief.Tokens)) : double.NaN;
        var encoderSeconds = (brief.Seconds - brief.Tokens * (double.IsNaN(tokenSeconds) ? 0 : tokenSeconds)) / Math.Max(1, brief.Runs);
        return new AsrCost(encoderSeconds, tokenSeconds, windows.Count, brief.Tokens, full.Tokens);
    }

    private static string FreshFolder(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        return path;
    }

    private static StageResult Row(string stage, List<double> seconds, double audioSeconds, int utterances, string? note = null) =>
        new(stage, Median(seconds), seconds.Min(), audioSeconds, utterances, note);

    private static StageResult Row(string stage, Timings timings, double audioSeconds, int utterances, string? note = null) =>
        Row(stage, timings.Wall, audioSeconds, utterances, note) with { CpuSeconds = Median(timings.Cpu) };

    private static double Median(List<double> values) => values.Count == 0 ? double.NaN : values.Order().ElementAt(values.Count / 2);

    /// <summary>Wall and CPU seconds of each repeat.</summary>
    private sealed record Timings(List<double> Wall, List<double> Cpu);

    private async Task<Timings> MeasureAsync(Func<Task> run)
    {
        var timings = new Timings(new List<double>(_settings.Repeat), new List<double>(_settings.Repeat));
        for (var i = 0; i < _settings.Repeat; i++)
        {
            var cpu = CpuClock.Seconds();
            var start = Stopwatch.GetTimestamp();
            await run().ConfigureAwait(false);
            timings.Wall.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            timings.Cpu.Add(CpuClock.Seconds() - cpu);
        }
        return timings;
    }

    private static (double Wall, double Cpu) TimeWithCpu(Action run)
    {
        var cpu = CpuClock.Seconds();
        var start = Stopwatch.GetTimestamp();
        run();
        return (Stopwatch.GetElapsedTime(start).TotalSeconds, CpuClock.Seconds() - cpu);
    }

    private static async IAsyncEnumerable<PcmChunk> Replay(List<PcmChunk> chunks, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var chunk in chunks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return chunk;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }
}

/// <summary>What a grouping of utterances into batches wastes.</summary>
public static class BatchPlan
{
    /// <summary>Share of the padded [B, S] tensors that is padding.</summary>
    public static double PaddingWaste(IEnumerable<int[]> batches, int[] lengths)
    {
        long padded = 0, real = 0;
        foreach (var batch in batches)
        {
            var max = Math.Max(WaveformBatch.MinimumPaddedSamples, batch.Max(i => lengths[i]));
            padded += (long)max * batch.Length;
            real += batch.Sum(i => (long)lengths[i]);
        }
        return padded == 0 ? 0 : 1 - real / (double)padded;
    }
}

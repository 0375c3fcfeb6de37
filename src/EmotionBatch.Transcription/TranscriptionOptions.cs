using System.ComponentModel.DataAnnotations;

namespace EmotionBatch.Transcription;

/// <summary>Configuration section <c>EmotionBatch:Transcription</c>.</summary>
public sealed class TranscriptionOptions
{
    public const string SectionName = "EmotionBatch:Transcription";
    public const string AutoLanguage = "auto";

    /// <summary>A whisper.cpp ggml model file; null or empty disables speech recognition (text modality masked).</summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// "auto" detects the language once per call (per packed window, so per utterance only when PackSeconds is 0), at the
    /// cost of one more encoder pass per call; otherwise a Whisper language code such as "en", which saves that pass.
    /// </summary>
    [Required]
    [RegularExpression("^(auto|[a-z]{2,3}|haw|yue)$", ErrorMessage = "Language must be 'auto' or a Whisper language code such as 'en'.")]
    public string Language { get; set; } = AutoLanguage;

    /// <summary>Threads per transcription; 0 leaves Whisper.net's default.</summary>
    [Range(0, 256)]
    public int Threads { get; set; }

    /// <summary>When set, the model file must have this SHA-256 (hex); checked once at start.</summary>
    [RegularExpression("^[0-9a-fA-F]{64}$", ErrorMessage = "ExpectedSha256 must be 64 hexadecimal characters.")]
    public string? ExpectedSha256 { get; set; }

    /// <summary>
    /// Seconds of speech per Whisper call: utterances of one channel are laid end to end (the silences between them cut
    /// to <see cref="PackedWindows.GapSeconds"/>) into windows of up to this length, and the timestamped segments that
    /// come back are mapped to the utterances by time. Whisper pays its full 30-second encoder on every call, so packing
    /// saves most of the cost; 0 transcribes each utterance in its own call.
    /// </summary>
    [Range(0, PackedWindows.WhisperWindowSeconds)]
    public double PackSeconds { get; set; } = PackedWindows.WhisperWindowSeconds;

    /// <summary>Most tokens Whisper decodes per segment; 0 leaves whisper.cpp's limit (half the text context, 224).</summary>
    [Range(0, 224)]
    public int MaxTokensPerSegment { get; set; }

    /// <summary>
    /// whisper.cpp encodes a window again when its decoding stopped short of the window's end; a call that asks for
    /// more encoder runs than this gives up on the rest of its window (a model stuck in a loop would otherwise run on).
    /// </summary>
    [Range(1, 10)]
    public int MaxEncoderRunsPerCall { get; set; } = 2;

    /// <summary>
    /// Decode again at higher temperatures when a decoding fails whisper's checks (repetition, low log-probability);
    /// better transcripts, up to several times the decoding cost on hard audio. Off for cost measurements.
    /// </summary>
    public bool TemperatureFallback { get; set; } = true;

    /// <summary>whisper.cpp's flash attention (Whisper.net's UseFlashAttention): results equal within half-precision rounding, less encoder time on CPU.</summary>
    public bool FlashAttention { get; set; } = true;

    /// <summary>Sampling temperature of the first decoding (0 = greedy, whisper's default).</summary>
    [Range(0, 1)]
    public double Temperature { get; set; }

    public bool IsEnabled => !string.IsNullOrWhiteSpace(ModelPath);
}

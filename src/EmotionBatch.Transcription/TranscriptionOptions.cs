using System.ComponentModel.DataAnnotations;

namespace EmotionBatch.Transcription;

/// <summary>Configuration section <c>EmotionBatch:Transcription</c>.</summary>
public sealed class TranscriptionOptions
{
    public const string SectionName = "EmotionBatch:Transcription";
    public const string AutoLanguage = "auto";

    /// <summary>A whisper.cpp ggml model file; null or empty disables speech recognition (text modality masked).</summary>
    public string? ModelPath { get; set; }

    /// <summary>"auto" detects the language per utterance; otherwise a Whisper language code such as "en".</summary>
    [Required]
    [RegularExpression("^(auto|[a-z]{2,3}|haw|yue)$", ErrorMessage = "Language must be 'auto' or a Whisper language code such as 'en'.")]
    public string Language { get; set; } = AutoLanguage;

    /// <summary>Threads per transcription; 0 leaves Whisper.net's default.</summary>
    [Range(0, 256)]
    public int Threads { get; set; }

    /// <summary>When set, the model file must have this SHA-256 (hex); checked once at start.</summary>
    [RegularExpression("^[0-9a-fA-F]{64}$", ErrorMessage = "ExpectedSha256 must be 64 hexadecimal characters.")]
    public string? ExpectedSha256 { get; set; }

    public bool IsEnabled => !string.IsNullOrWhiteSpace(ModelPath);
}

using System.ComponentModel.DataAnnotations;

namespace EmotionBatch.Audio;

/// <summary>Settings of <see cref="SileroSpeechSegmenter"/>, bound from <c>EmotionBatch:Vad</c>.</summary>
public sealed class VadOptions : IValidatableObject
{
    public const string SectionName = "EmotionBatch:Vad";

    /// <summary>Silero VAD v5/v6 ONNX file; a relative path is resolved against the current directory.</summary>
    [Required]
    public string ModelPath { get; set; } = SileroVadModel.DefaultRelativePath;

    /// <summary>Speech probability that starts an utterance; it ends only below <c>Threshold - 0.15</c> (hysteresis).</summary>
    [Range(0.05, 0.95)]
    public float Threshold { get; set; } = 0.5f;

    /// <summary>Shorter detections are dropped as clicks and breaths.</summary>
    [Range(0, 10_000)]
    public int MinSpeechMs { get; set; } = 250;

    /// <summary>Silence needed to end an utterance; shorter pauses stay inside it.</summary>
    [Range(32, 10_000)]
    public int MinSilenceMs { get; set; } = 300;

    /// <summary>Added before and after each utterance (clamped to the recording and to the previous utterance).</summary>
    [Range(0, 2_000)]
    public int PaddingMs { get; set; } = 100;

    /// <summary>Longer speech is split, at the least speech-like window of its last third; padding included.</summary>
    [Range(1.0, 600.0)]
    public double MaxUtteranceSeconds { get; set; } = 15;

    /// <summary>
    /// Stretches of the recording scored side by side as one batch (1 = strictly one window after another). Silero
    /// costs about the same per run for 1 or 8 windows, so 8 lanes make VAD some 2x faster on CPU.
    /// </summary>
    [Range(1, 64)]
    public int Lanes { get; set; } = 8;

    /// <summary>Length of each lane's stretch; a block of <c>Lanes x LaneSeconds</c> of audio is held while it is scored.</summary>
    [Range(1.0, 600.0)]
    public double LaneSeconds { get; set; } = 15;

    /// <summary>Audio a lane runs through before its stretch so its recurrent state has settled; its scores are dropped.</summary>
    [Range(0, 10_000)]
    public int LaneWarmupMs { get; set; } = 1000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxUtteranceSeconds * 1000 < 2 * PaddingMs + MinSpeechMs + 100)
        {
            yield return new ValidationResult(
                $"MaxUtteranceSeconds ({MaxUtteranceSeconds}) leaves no room for 2 x PaddingMs ({PaddingMs}) plus MinSpeechMs ({MinSpeechMs}).",
                [nameof(MaxUtteranceSeconds)]);
        }
        if (Lanes * LaneSeconds > MaxBlockSeconds)
        {
            // Each recording in flight holds one block of samples (64 kB per second).
            yield return new ValidationResult(
                $"Lanes x LaneSeconds ({Lanes} x {LaneSeconds} s) is over {MaxBlockSeconds} s of audio held per recording; lower LaneSeconds.",
                [nameof(Lanes), nameof(LaneSeconds)]);
        }
    }

    /// <summary>Largest VAD block: 30 minutes, about 115 MB of samples per recording in flight.</summary>
    public const int MaxBlockSeconds = 1800;
}

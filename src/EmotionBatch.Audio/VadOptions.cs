using System.ComponentModel.DataAnnotations;
using EmotionBatch.Core;

namespace EmotionBatch.Audio;

/// <summary>Settings of <see cref="SileroSpeechSegmenter"/>, bound from <c>EmotionBatch:Vad</c>.</summary>
public sealed class VadOptions : IValidatableObject
{
    public const string SectionName = "EmotionBatch:Vad";

    /// <summary>Lowest threshold a pass may use.</summary>
    public const float MinThreshold = 0.05f;

    /// <summary>Silero VAD v5/v6 ONNX file; a relative path is resolved against the current directory.</summary>
    [Required]
    public string ModelPath { get; set; } = SileroVadModel.DefaultRelativePath;

    /// <summary>Speech probability that starts an utterance; it ends only below <c>Threshold - 0.15</c> (hysteresis).</summary>
    [Range(MinThreshold, 0.95)]
    public float Threshold { get; set; } = 0.5f;

    /// <summary>
    /// A recording in which <see cref="Threshold"/> finds no speech at all is heard once more at this threshold (0 = off;
    /// ignored unless below <see cref="Threshold"/>, so a deployment that already runs at 0.2 or lower hears once).
    /// Silero misses some soft or shouted emotional speech at 0.5; the rows say which threshold found them
    /// (<c>vad_threshold</c>). The second pass decodes the recording again, so it costs only recordings without speech.
    /// </summary>
    [Range(0.0, 0.95)]
    public float FallbackThreshold { get; set; } = 0.2f;

    /// <summary>Whether a recording without speech at <see cref="Threshold"/> gets a <see cref="VadPass.Fallback"/> pass.</summary>
    public bool HasFallback => FallbackThreshold > 0 && FallbackThreshold < Threshold;

    /// <summary>The threshold of a pass.</summary>
    public float ThresholdOf(VadPass pass) => pass switch
    {
        VadPass.Primary => Threshold,
        VadPass.Fallback when HasFallback => FallbackThreshold,
        VadPass.Fallback => throw new InvalidOperationException("A fallback VAD pass was asked for, but EmotionBatch:Vad:FallbackThreshold is 0 (off)."),
        _ => throw new ArgumentOutOfRangeException(nameof(pass), pass, null),
    };

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
        if (FallbackThreshold is > 0 and < MinThreshold)
        {
            // Below this the end-of-speech threshold (0.15 lower, floored at 0.01) would sit above the start.
            yield return new ValidationResult(
                $"FallbackThreshold ({FallbackThreshold}) must be 0 (off) or at least {MinThreshold}.", [nameof(FallbackThreshold)]);
        }
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

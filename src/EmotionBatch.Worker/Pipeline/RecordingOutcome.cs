using EmotionBatch.Core;

namespace EmotionBatch.Worker.Pipeline;

public enum OutcomeKind
{
    Completed,
    Failed,
    /// <summary>Decoded, but no speech found: an error row says so; an outcome, not a failure, for exit codes.</summary>
    NoSpeech,
    /// <summary>Left alone: done, claimed by another worker, or waiting for its retry.</summary>
    Skipped,
    /// <summary>Left alone: it failed permanently in an earlier pass (its rows are in the errors dataset).</summary>
    FailedEarlier,
}

/// <summary>What happened to one recording in one pass, for progress display, metrics and the exit code.</summary>
public sealed record RecordingOutcome(
    RecordingRef Recording,
    OutcomeKind Kind,
    int Utterances,
    double AudioSeconds,
    TimeSpan Elapsed,
    string? FailureReason = null)
{
    /// <summary>Seconds of audio per second of processing; 0 when nothing was decoded.</summary>
    public double RealTimeFactor => Elapsed > TimeSpan.Zero ? AudioSeconds / Elapsed.TotalSeconds : 0;
}

/// <summary>Processes one recording and commits its rows or records its failure (<see cref="RecordingPipeline"/>).</summary>
public interface IRecordingProcessor
{
    /// <summary>Only cancellation escapes: every other failure is recorded and returned as an outcome.</summary>
    Task<RecordingOutcome> ProcessAsync(RecordingRef recording, int attempt, CancellationToken cancellationToken);
}

/// <summary>One pass over the source (<see cref="BatchRunner"/>).</summary>
public interface IPassRunner
{
    /// <param name="progress">Receives each outcome as it happens (the CLI's progress display).</param>
    Task<PassSummary> RunPassAsync(IProgress<RecordingOutcome>? progress, CancellationToken cancellationToken);
}

namespace EmotionBatch.Core;

/// <summary>A recording-level failure with a reason fit for the errors dataset; the batch goes on without it.</summary>
public sealed class RecordingFailedException : Exception
{
    public RecordingFailedException(string stage, string reason, Exception? inner = null)
        : base($"{stage}: {reason}", inner)
    {
        Stage = stage;
        Reason = reason;
    }

    /// <summary>One of <see cref="PipelineStage.FailureStages"/>.</summary>
    public string Stage { get; }

    public string Reason { get; }

    /// <summary>False for failures that a retry cannot fix (corrupt file, too long, hostile input).</summary>
    public bool Retryable { get; init; }
}

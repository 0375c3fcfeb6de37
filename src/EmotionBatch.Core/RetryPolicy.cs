namespace EmotionBatch.Core;

/// <summary>
/// When a failed recording version is tried again: the result store applies it when it records a failure (attempt
/// count, permanent or not, when the next try is due) and the batch runner asks it what is due now. One policy, so
/// the two never disagree.
/// </summary>
/// <param name="MaxAttempts">Failures of one version before it is left alone until its content changes.</param>
/// <param name="FirstBackoff">Wait after the first failure; doubles with each further attempt.</param>
/// <param name="MaxBackoff">The longest wait between attempts.</param>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan FirstBackoff, TimeSpan MaxBackoff)
{
    /// <summary>Whether a failure at <paramref name="attempt"/> (1-based) gets another try.</summary>
    /// <param name="retryable">False for failures no retry can fix (a corrupt file): those are permanent at once.</param>
    public bool WillRetry(bool retryable, int attempt) => retryable && attempt < MaxAttempts;

    /// <summary>The wait after failed attempt <paramref name="attempt"/>: <see cref="FirstBackoff"/> doubled per further attempt, at most <see cref="MaxBackoff"/>.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var factor = Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        return TimeSpan.FromTicks((long)Math.Min(FirstBackoff.Ticks * factor, MaxBackoff.Ticks));
    }

    /// <summary>The state of a version that failed <paramref name="attempts"/> times.</summary>
    /// <param name="permanent">The last failure said no retry could fix it.</param>
    /// <param name="retryAfter">When the last failure said the next try is due (<see cref="Backoff"/> after it).</param>
    public RecordingState StateAfter(int attempts, bool permanent, DateTimeOffset? retryAfter) =>
        permanent || attempts >= MaxAttempts
            ? new RecordingState(RecordingStatus.FailedPermanently, attempts, null)
            : new RecordingState(RecordingStatus.FailedRetryable, attempts, retryAfter);

    /// <summary>Whether a version in <paramref name="state"/> should be processed at <paramref name="now"/>.</summary>
    public static bool IsDue(RecordingState state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Status switch
        {
            RecordingStatus.New => true,
            RecordingStatus.FailedRetryable => state.RetryAfter is null || state.RetryAfter <= now,
            _ => false,
        };
    }
}

namespace EmotionBatch.Core;

/// <summary>One output row: one utterance of one recording. Column names are documented in docs/schema.md.</summary>
public sealed record UtteranceRow(
    string RecordingId,
    string RecordingUri,
    string ETag,
    int UtteranceIndex,
    double StartSeconds,
    double EndSeconds,
    string? Transcript,
    string? Language,
    string Emotion,
    float ProbabilityAngry,
    float ProbabilityHappy,
    float ProbabilitySad,
    float ProbabilityNeutral,
    float Valence,
    float Arousal,
    bool TextUsed,
    string ModelName,
    string ModelVersion,
    DateTime ProcessedAtUtc)
{
    /// <summary>The recording's channel this utterance was heard on; 0 when the recording was mixed to one stream.</summary>
    public int Channel { get; init; }

    /// <summary>The configured role of <see cref="Channel"/> (e.g. "customer"); null when the recording was mixed or no role is configured.</summary>
    public string? SpeakerRole { get; init; }

    /// <summary>
    /// Another channel's utterance shares at least <see cref="ConversationTimeline.MinOverlapSeconds"/> with this one (only
    /// for recordings split by channel).
    /// </summary>
    public bool Overlap { get; init; }

    /// <summary>
    /// The VAD threshold the utterance was found at: <c>Vad:Threshold</c>, or the lower <c>Vad:FallbackThreshold</c> in
    /// a recording where the first found no speech; null where unknown (files written before the column existed).
    /// </summary>
    public float? VadThreshold { get; init; }
}

/// <summary>A recording that could not be processed, with the reason an operator can act on.</summary>
public sealed record FailureRow(
    string RecordingId,
    string RecordingUri,
    string ETag,
    string Stage,
    string Reason,
    int Attempt,
    bool WillRetry,
    DateTime FailedAtUtc);

/// <summary>What the result store knows of a recording version.</summary>
public enum RecordingStatus
{
    New,
    Completed,
    /// <summary>Failed before; may be retried once its back-off has passed.</summary>
    FailedRetryable,
    /// <summary>Failed the configured number of times; left alone until its content changes.</summary>
    FailedPermanently,
}

public sealed record RecordingState(RecordingStatus Status, int Attempts, DateTimeOffset? RetryAfter);

/// <summary>
/// Where rows leave: output dataset plus the ledger of what is done. A commit writes the recording's rows and its
/// done record so that a crash at any point leaves neither missing nor duplicated rows.
/// </summary>
public interface IResultStore
{
    string Description { get; }

    Task<RecordingState> GetStateAsync(RecordingRef recording, CancellationToken cancellationToken);

    /// <param name="recordingDurationSeconds">Length of the recording, for the per-recording summary's share of speech; null when unknown.</param>
    Task CommitAsync(RecordingRef recording, IReadOnlyList<UtteranceRow> rows, double? recordingDurationSeconds, CancellationToken cancellationToken);

    Task CommitAsync(RecordingRef recording, IReadOnlyList<UtteranceRow> rows, CancellationToken cancellationToken) =>
        CommitAsync(recording, rows, recordingDurationSeconds: null, cancellationToken);

    Task RecordFailureAsync(RecordingRef recording, FailureRow failure, CancellationToken cancellationToken);
}

/// <summary>The one place an utterance, its transcript and the model's prediction become an output row.</summary>
public static class UtteranceRows
{
    /// <param name="speakerRole">The configured role of the utterance's channel; null when mixed or unconfigured.</param>
    public static UtteranceRow Create(
        RecordingRef recording, Utterance utterance, Transcript? transcript, EmotionPrediction prediction, ModelBundleInfo model,
        DateTime processedAtUtc, string? speakerRole = null)
    {
        ArgumentNullException.ThrowIfNull(recording);
        ArgumentNullException.ThrowIfNull(utterance);
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(model);
        // A blank transcript is no transcript: the text modality was masked, and the row says so.
        var text = string.IsNullOrWhiteSpace(transcript?.Text) ? null : transcript.Text.Trim();
        return new UtteranceRow(
            recording.Id,
            recording.Uri.ToString(),
            recording.ETag,
            utterance.Index,
            utterance.StartSeconds,
            utterance.EndSeconds,
            text,
            text is null ? null : transcript!.Language,
            prediction.Label,
            prediction.ProbabilityAngry,
            prediction.ProbabilityHappy,
            prediction.ProbabilitySad,
            prediction.ProbabilityNeutral,
            prediction.Valence,
            prediction.Arousal,
            TextUsed: text is not null,
            model.Name,
            model.Version,
            processedAtUtc)
        {
            Channel = utterance.Channel ?? 0,
            SpeakerRole = speakerRole,
            VadThreshold = utterance.VadThreshold,
        };
    }
}

using EmotionBatch.Core;

namespace EmotionBatch.Storage.Tests;

internal static class Samples
{
    public static readonly DateTimeOffset LastModified = new(2026, 11, 3, 22, 15, 0, TimeSpan.Zero);

    public static RecordingRef Recording(string id = "calls/2026/call-17.wav", string etag = "\"0x1\"", DateTimeOffset? lastModified = null) =>
        new(id, new Uri("https://account.blob.core.windows.net/audio/" + id), etag, 1234, lastModified ?? LastModified);

    public static IReadOnlyList<UtteranceRow> Rows(RecordingRef recording, int count, string emotion = EmotionLabels.Happy) =>
        Enumerable.Range(0, count).Select(i => new UtteranceRow(
            recording.Id,
            recording.Uri.ToString(),
            recording.ETag,
            UtteranceIndex: i,
            StartSeconds: i * 2.5,
            EndSeconds: i * 2.5 + 1.75,
            Transcript: i == 0 ? null : $"utterance {i}",
            Language: i == 0 ? null : "en",
            Emotion: emotion,
            ProbabilityAngry: 0.1f,
            ProbabilityHappy: 0.6f,
            ProbabilitySad: 0.05f,
            ProbabilityNeutral: 0.25f,
            Valence: 0.5f,
            Arousal: -0.25f,
            TextUsed: i != 0,
            ModelName: "emotion-test",
            ModelVersion: "1.2.3",
            ProcessedAtUtc: new DateTime(2026, 11, 24, 8, 30, 15, 123, DateTimeKind.Utc))).ToList();

    public static FailureRow Failure(RecordingRef recording, bool retryable = true, string reason = "decoder exited with code 1") =>
        new(recording.Id, recording.Uri.ToString(), recording.ETag, "decode", reason, Attempt: 0, WillRetry: retryable,
            FailedAtUtc: new DateTime(2026, 11, 24, 9, 0, 0, DateTimeKind.Utc));
}

/// <summary>A clock the test moves by hand, to check back-off times without waiting.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

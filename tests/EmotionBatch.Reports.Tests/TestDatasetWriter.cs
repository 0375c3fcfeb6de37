using EmotionBatch.Core;
using Parquet;
using Parquet.Schema;

namespace EmotionBatch.Reports.Tests;

/// <summary>
/// Writes utterances and errors datasets the way the worker lays them out (hive partitions by day, one file per
/// recording version), with Parquet.Net directly, so the reports are tested against files they did not write.
/// </summary>
internal static class TestDatasetWriter
{
    private static readonly DataField<string> RecordingId = new("recording_id", nullable: false);
    private static readonly DataField<string> RecordingUri = new("recording_uri", nullable: false);
    private static readonly DataField<string> ETag = new("etag", nullable: false);
    private static readonly DataField<int> UtteranceIndex = new("utterance_index", nullable: false);
    private static readonly DataField<double> StartSeconds = new("start_seconds", nullable: false);
    private static readonly DataField<double> EndSeconds = new("end_seconds", nullable: false);
    private static readonly DataField<string> Transcript = new("transcript", nullable: true);
    private static readonly DataField<string> Language = new("language", nullable: true);
    private static readonly DataField<string> Emotion = new("emotion", nullable: false);
    private static readonly DataField<float> PAngry = new("p_angry", nullable: false);
    private static readonly DataField<float> PHappy = new("p_happy", nullable: false);
    private static readonly DataField<float> PSad = new("p_sad", nullable: false);
    private static readonly DataField<float> PNeutral = new("p_neutral", nullable: false);
    private static readonly DataField<float> Valence = new("valence", nullable: false);
    private static readonly DataField<float> Arousal = new("arousal", nullable: false);
    private static readonly DataField<bool> TextUsed = new("text_used", nullable: false);
    private static readonly DataField<string> ModelName = new("model_name", nullable: false);
    private static readonly DataField<string> ModelVersion = new("model_version", nullable: false);
    private static readonly DateTimeDataField ProcessedAt = new("processed_at", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);

    private static readonly ParquetSchema UtteranceSchema = new(
        RecordingId, RecordingUri, ETag, UtteranceIndex, StartSeconds, EndSeconds, Transcript, Language, Emotion,
        PAngry, PHappy, PSad, PNeutral, Valence, Arousal, TextUsed, ModelName, ModelVersion, ProcessedAt);

    private static readonly DataField<string> Stage = new("stage", nullable: false);
    private static readonly DataField<string> Reason = new("reason", nullable: false);
    private static readonly DataField<int> Attempt = new("attempt", nullable: false);
    private static readonly DataField<bool> WillRetry = new("will_retry", nullable: false);
    private static readonly DateTimeDataField FailedAt = new("failed_at", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);

    private static readonly ParquetSchema ErrorSchema = new(RecordingId, RecordingUri, ETag, Stage, Reason, Attempt, WillRetry, FailedAt);

    /// <summary>Writes each recording version of <paramref name="rows"/> to its own file under <c>output/utterances/date=…/</c>.</summary>
    public static async Task WriteUtterancesAsync(string output, IEnumerable<UtteranceRow> rows)
    {
        foreach (var version in rows.GroupBy(row => (row.RecordingId, row.ETag)))
        {
            var list = version.OrderBy(row => row.UtteranceIndex).ToList();
            var key = new RecordingKey(Hashing.ShortHex(version.Key.RecordingId), Hashing.ShortHex(version.Key.RecordingId + "\n" + version.Key.ETag));
            var day = list[0].ProcessedAtUtc.ToString("yyyy-MM-dd");
            var path = Path.Combine(output, "utterances", $"date={day}", $"{key}.parquet");
            await WriteUtteranceFileAsync(path, list);
        }
    }

    public static async Task WriteUtteranceFileAsync(string path, IReadOnlyList<UtteranceRow> list)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(UtteranceSchema, stream);
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(RecordingId, list.Select(r => r.RecordingId).ToArray());
        await group.WriteAsync(RecordingUri, list.Select(r => r.RecordingUri).ToArray());
        await group.WriteAsync(ETag, list.Select(r => r.ETag).ToArray());
        await group.WriteAsync(UtteranceIndex, (ReadOnlyMemory<int>)list.Select(r => r.UtteranceIndex).ToArray());
        await group.WriteAsync(StartSeconds, (ReadOnlyMemory<double>)list.Select(r => r.StartSeconds).ToArray());
        await group.WriteAsync(EndSeconds, (ReadOnlyMemory<double>)list.Select(r => r.EndSeconds).ToArray());
        await group.WriteAsync(Transcript, list.Select(r => r.Transcript).ToArray()!);
        await group.WriteAsync(Language, list.Select(r => r.Language).ToArray()!);
        await group.WriteAsync(Emotion, list.Select(r => r.Emotion).ToArray());
        await group.WriteAsync(PAngry, (ReadOnlyMemory<float>)list.Select(r => r.ProbabilityAngry).ToArray());
        await group.WriteAsync(PHappy, (ReadOnlyMemory<float>)list.Select(r => r.ProbabilityHappy).ToArray());
        await group.WriteAsync(PSad, (ReadOnlyMemory<float>)list.Select(r => r.ProbabilitySad).ToArray());
        await group.WriteAsync(PNeutral, (ReadOnlyMemory<float>)list.Select(r => r.ProbabilityNeutral).ToArray());
        await group.WriteAsync(Valence, (ReadOnlyMemory<float>)list.Select(r => r.Valence).ToArray());
        await group.WriteAsync(Arousal, (ReadOnlyMemory<float>)list.Select(r => r.Arousal).ToArray());
        await group.WriteAsync(TextUsed, (ReadOnlyMemory<bool>)list.Select(r => r.TextUsed).ToArray());
        await group.WriteAsync(ModelName, list.Select(r => r.ModelName).ToArray());
        await group.WriteAsync(ModelVersion, list.Select(r => r.ModelVersion).ToArray());
        await group.WriteAsync(ProcessedAt, (ReadOnlyMemory<DateTime>)list.Select(r => r.ProcessedAtUtc).ToArray());
    }

    public static async Task WriteErrorsAsync(string output, IReadOnlyList<FailureRow> failures)
    {
        foreach (var day in failures.GroupBy(f => f.FailedAtUtc.ToString("yyyy-MM-dd")))
        {
            var list = day.ToList();
            var path = Path.Combine(output, "errors", $"date={day.Key}", $"{Guid.NewGuid():N}.parquet");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using var stream = File.Create(path);
            await using var writer = await ParquetWriter.CreateAsync(ErrorSchema, stream);
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(RecordingId, list.Select(r => r.RecordingId).ToArray());
            await group.WriteAsync(RecordingUri, list.Select(r => r.RecordingUri).ToArray());
            await group.WriteAsync(ETag, list.Select(r => r.ETag).ToArray());
            await group.WriteAsync(Stage, list.Select(r => r.Stage).ToArray());
            await group.WriteAsync(Reason, list.Select(r => r.Reason).ToArray());
            await group.WriteAsync(Attempt, (ReadOnlyMemory<int>)list.Select(r => r.Attempt).ToArray());
            await group.WriteAsync(WillRetry, (ReadOnlyMemory<bool>)list.Select(r => r.WillRetry).ToArray());
            await group.WriteAsync(FailedAt, (ReadOnlyMemory<DateTime>)list.Select(r => r.FailedAtUtc).ToArray());
        }
    }
}

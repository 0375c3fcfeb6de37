using EmotionBatch.Core;
using Parquet;
using Parquet.Schema;

namespace EmotionBatch.Storage;

/// <summary>The Parquet schemas of the two datasets (documented in docs/schema.md) and their writers.</summary>
internal static class ParquetRows
{
    private static readonly DataField<string> RecordingId = new("recording_id", nullable: false);
    private static readonly DataField<string> RecordingUri = new("recording_uri", nullable: false);
    private static readonly DataField<string> ETag = new("etag", nullable: false);
    private static readonly DataField<int> UtteranceIndex = new("utterance_index");
    private static readonly DataField<double> StartSeconds = new("start_seconds");
    private static readonly DataField<double> EndSeconds = new("end_seconds");
    private static readonly DataField<string> Transcript = new("transcript", nullable: true);
    private static readonly DataField<string> Language = new("language", nullable: true);
    private static readonly DataField<string> Emotion = new("emotion", nullable: false);
    private static readonly DataField<float> ProbabilityAngry = new("p_angry");
    private static readonly DataField<float> ProbabilityHappy = new("p_happy");
    private static readonly DataField<float> ProbabilitySad = new("p_sad");
    private static readonly DataField<float> ProbabilityNeutral = new("p_neutral");
    private static readonly DataField<float> Valence = new("valence");
    private static readonly DataField<float> Arousal = new("arousal");
    private static readonly DataField<bool> TextUsed = new("text_used");
    private static readonly DataField<string> ModelName = new("model_name", nullable: false);
    private static readonly DataField<string> ModelVersion = new("model_version", nullable: false);
    private static readonly DateTimeDataField ProcessedAt = UtcTimestamp("processed_at");
    // Added with channel splitting, after every earlier column, so readers of older files keep their column positions.
    private static readonly DataField<int> Channel = new("channel");
    private static readonly DataField<string> SpeakerRole = new("speaker_role", nullable: true);
    private static readonly DataField<bool> Overlap = new("overlap");

    private static readonly DataField<string> Stage = new("stage", nullable: false);
    private static readonly DataField<string> Reason = new("reason", nullable: false);
    private static readonly DataField<int> Attempt = new("attempt");
    private static readonly DataField<bool> WillRetry = new("will_retry");
    private static readonly DateTimeDataField FailedAt = UtcTimestamp("failed_at");

    public static readonly ParquetSchema UtteranceSchema = new(
        RecordingId, RecordingUri, ETag, UtteranceIndex, StartSeconds, EndSeconds, Transcript, Language, Emotion,
        ProbabilityAngry, ProbabilityHappy, ProbabilitySad, ProbabilityNeutral, Valence, Arousal, TextUsed,
        ModelName, ModelVersion, ProcessedAt, Channel, SpeakerRole, Overlap);

    public static readonly ParquetSchema FailureSchema = new(
        RecordingId, RecordingUri, ETag, Stage, Reason, Attempt, WillRetry, FailedAt);

    private static readonly ParquetOptions Options = new() { CompressionMethod = CompressionMethod.Snappy };

    /// <summary>One file, one row group: a recording's rows are small and always read together.</summary>
    public static async Task<MemoryStream> WriteUtterancesAsync(IReadOnlyList<UtteranceRow> rows, CancellationToken cancellationToken)
    {
        var output = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(UtteranceSchema, output, Options, append: false, cancellationToken).ConfigureAwait(false))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(RecordingId, Strings(rows, r => r.RecordingId)).ConfigureAwait(false);
            await group.WriteAsync(RecordingUri, Strings(rows, r => r.RecordingUri)).ConfigureAwait(false);
            await group.WriteAsync(ETag, Strings(rows, r => r.ETag)).ConfigureAwait(false);
            await group.WriteAsync(UtteranceIndex, Values(rows, r => r.UtteranceIndex), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(StartSeconds, Values(rows, r => r.StartSeconds), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(EndSeconds, Values(rows, r => r.EndSeconds), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(Transcript, Strings(rows, r => r.Transcript)).ConfigureAwait(false);
            await group.WriteAsync(Language, Strings(rows, r => r.Language)).ConfigureAwait(false);
            await group.WriteAsync(Emotion, Strings(rows, r => r.Emotion)).ConfigureAwait(false);
            await group.WriteAsync(ProbabilityAngry, Values(rows, r => r.ProbabilityAngry), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(ProbabilityHappy, Values(rows, r => r.ProbabilityHappy), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(ProbabilitySad, Values(rows, r => r.ProbabilitySad), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(ProbabilityNeutral, Values(rows, r => r.ProbabilityNeutral), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(Valence, Values(rows, r => r.Valence), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(Arousal, Values(rows, r => r.Arousal), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(TextUsed, Values(rows, r => r.TextUsed), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(ModelName, Strings(rows, r => r.ModelName)).ConfigureAwait(false);
            await group.WriteAsync(ModelVersion, Strings(rows, r => r.ModelVersion)).ConfigureAwait(false);
            await group.WriteAsync(ProcessedAt, Values(rows, r => AsUtc(r.ProcessedAtUtc)), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(Channel, Values(rows, r => r.Channel), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(SpeakerRole, Strings(rows, r => r.SpeakerRole)).ConfigureAwait(false);
            await group.WriteAsync(Overlap, Values(rows, r => r.Overlap), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        output.Position = 0;
        return output;
    }

    public static async Task<MemoryStream> WriteFailureAsync(FailureRow row, CancellationToken cancellationToken)
    {
        FailureRow[] rows = [row];
        var output = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(FailureSchema, output, Options, append: false, cancellationToken).ConfigureAwait(false))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(RecordingId, Strings(rows, r => r.RecordingId)).ConfigureAwait(false);
            await group.WriteAsync(RecordingUri, Strings(rows, r => r.RecordingUri)).ConfigureAwait(false);
            await group.WriteAsync(ETag, Strings(rows, r => r.ETag)).ConfigureAwait(false);
            await group.WriteAsync(Stage, Strings(rows, r => r.Stage)).ConfigureAwait(false);
            await group.WriteAsync(Reason, Strings(rows, r => r.Reason)).ConfigureAwait(false);
            await group.WriteAsync(Attempt, Values(rows, r => r.Attempt), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(WillRetry, Values(rows, r => r.WillRetry), cancellationToken: cancellationToken).ConfigureAwait(false);
            await group.WriteAsync(FailedAt, Values(rows, r => AsUtc(r.FailedAtUtc)), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        output.Position = 0;
        return output;
    }

    private static DateTimeDataField UtcTimestamp(string name) =>
        new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);

    // An Unspecified kind is taken as UTC (the contract says *Utc); a Local one is converted.
    private static DateTime AsUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    private static string?[] Strings<T>(IReadOnlyList<T> rows, Func<T, string?> select)
    {
        var values = new string?[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(rows[i]);
        }
        return values;
    }

    private static ReadOnlyMemory<TValue> Values<T, TValue>(IReadOnlyList<T> rows, Func<T, TValue> select)
    {
        var values = new TValue[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(rows[i]);
        }
        return values;
    }
}

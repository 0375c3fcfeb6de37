using EmotionBatch.Core;
using EmotionBatch.Reports.Dataset;
using Parquet;
using Parquet.Schema;

namespace EmotionBatch.Reports.Summaries;

/// <summary>Parquet encoding of <see cref="RecordingSummary"/> rows, and where they sit in the output.</summary>
public static class SummaryParquet
{
    public const string FolderName = "summaries";

    // Internal ones are also columns of channel_summaries (ChannelSummaryParquet): one definition, same names and types.
    internal static readonly DataField<string> RecordingId = new(SummaryColumns.RecordingId, nullable: false);
    internal static readonly DataField<string> RecordingUri = new(SummaryColumns.RecordingUri, nullable: false);
    internal static readonly DataField<string> ETag = new(SummaryColumns.ETag, nullable: false);
    internal static readonly DataField<double> DurationSeconds = new(SummaryColumns.DurationSeconds, nullable: false);
    internal static readonly DataField<double> SpeechSeconds = new(SummaryColumns.SpeechSeconds, nullable: false);
    private static readonly DataField<double> SpeechShare = new(SummaryColumns.SpeechShare, nullable: false);
    internal static readonly DataField<int> Utterances = new(SummaryColumns.Utterances, nullable: false);
    internal static readonly DataField<string> DominantEmotion = new(SummaryColumns.DominantEmotion, nullable: true);
    internal static readonly DataField<float> ShareAngry = new(SummaryColumns.ShareAngry, nullable: false);
    internal static readonly DataField<float> ShareHappy = new(SummaryColumns.ShareHappy, nullable: false);
    internal static readonly DataField<float> ShareSad = new(SummaryColumns.ShareSad, nullable: false);
    internal static readonly DataField<float> ShareNeutral = new(SummaryColumns.ShareNeutral, nullable: false);
    internal static readonly DataField<float> MeanValence = new(SummaryColumns.MeanValence, nullable: true);
    internal static readonly DataField<float> MeanArousal = new(SummaryColumns.MeanArousal, nullable: true);
    internal static readonly DataField<string> ModelName = new(SummaryColumns.ModelName, nullable: false);
    internal static readonly DataField<string> ModelVersion = new(SummaryColumns.ModelVersion, nullable: false);
    internal static readonly DateTimeDataField ProcessedAt = new(
        SummaryColumns.ProcessedAt, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);

    /// <summary>The schema every summaries file has.</summary>
    public static ParquetSchema Schema { get; } = new(
        RecordingId, RecordingUri, ETag, DurationSeconds, SpeechSeconds, SpeechShare, Utterances, DominantEmotion,
        ShareAngry, ShareHappy, ShareSad, ShareNeutral, MeanValence, MeanArousal, ModelName, ModelVersion, ProcessedAt);

    /// <summary>One Parquet file holding <paramref name="summaries"/> in one row group.</summary>
    public static byte[] Serialize(IReadOnlyList<RecordingSummary> summaries) => ToBytes(buffer => SerializeAsync(summaries, buffer, CancellationToken.None));

    /// <summary>One Parquet file in memory from an asynchronous writer.</summary>
    internal static byte[] ToBytes(Func<Stream, Task> write)
    {
        using var buffer = new MemoryStream();
        // The writer is asynchronous only; a memory stream completes synchronously, so this cannot deadlock.
        write(buffer).GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    public static async Task SerializeAsync(IReadOnlyList<RecordingSummary> summaries, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(destination);
        await using var writer = await ParquetWriter.CreateAsync(Schema, destination, null, false, cancellationToken).ConfigureAwait(false);
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(RecordingId, summaries.Select(s => s.RecordingId).ToArray()).ConfigureAwait(false);
        await group.WriteAsync(RecordingUri, summaries.Select(s => s.RecordingUri).ToArray()).ConfigureAwait(false);
        await group.WriteAsync(ETag, summaries.Select(s => s.ETag).ToArray()).ConfigureAwait(false);
        await WriteAsync(group, DurationSeconds, summaries, s => s.DurationSeconds, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, SpeechSeconds, summaries, s => s.SpeechSeconds, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, SpeechShare, summaries, s => s.SpeechShare, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, Utterances, summaries, s => s.Utterances, cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(DominantEmotion, summaries.Select(s => s.DominantEmotion).ToArray()!).ConfigureAwait(false);
        await WriteAsync(group, ShareAngry, summaries, s => s.ShareAngry, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, ShareHappy, summaries, s => s.ShareHappy, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, ShareSad, summaries, s => s.ShareSad, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, ShareNeutral, summaries, s => s.ShareNeutral, cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(group, MeanValence, summaries, s => s.MeanValence, cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(group, MeanArousal, summaries, s => s.MeanArousal, cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(ModelName, summaries.Select(s => s.ModelName).ToArray()).ConfigureAwait(false);
        await group.WriteAsync(ModelVersion, summaries.Select(s => s.ModelVersion).ToArray()).ConfigureAwait(false);
        await WriteAsync(group, ProcessedAt, summaries, s => ParquetColumns.AsUtc(s.ProcessedAtUtc), cancellationToken).ConfigureAwait(false);
        group.CompleteValidate();
    }

    /// <summary>Reads a summaries file back (used to keep known durations when summaries are rebuilt).</summary>
    public static async Task<IReadOnlyList<RecordingSummary>> DeserializeAsync(Stream source, CancellationToken cancellationToken)
    {
        await using var reader = await ParquetReader.CreateAsync(source, null, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
        var fields = reader.Schema.DataFields.ToDictionary(field => field.Name, StringComparer.Ordinal);
        DataField Field(string name) => fields.TryGetValue(name, out var field)
            ? field
            : throw new InvalidDataException($"Column {name} is missing; this is not a summaries file.");

        var result = new List<RecordingSummary>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.OpenRowGroupReader(g);
            var ids = await ParquetColumns.ReadStringsAsync(group, Field(SummaryColumns.RecordingId), cancellationToken).ConfigureAwait(false);
            var uris = await ParquetColumns.ReadStringsAsync(group, Field(SummaryColumns.RecordingUri), cancellationToken).ConfigureAwait(false);
            var etags = await ParquetColumns.ReadStringsAsync(group, Field(SummaryColumns.ETag), cancellationToken).ConfigureAwait(false);
            var durations = await ParquetColumns.ReadDoublesAsync(group, Field(SummaryColumns.DurationSeconds), cancellationToken).ConfigureAwait(false);
            var speech = await ParquetColumns.ReadDoublesAsync(group, Field(SummaryColumns.SpeechSeconds), cancellationToken).ConfigureAwait(false);
            var speechShare = await ParquetColumns.ReadDoublesAsync(group, Field(SummaryColumns.SpeechShare), cancellationToken).ConfigureAwait(false);
            var utterances = await ParquetColumns.ReadIntegersAsync(group, Field(SummaryColumns.Utterances), cancellationToken).ConfigureAwait(false);
            var dominant = await ParquetColumns.ReadStringsAsync(group, Field(SummaryColumns.DominantEmotion), cancellationToken).ConfigureAwait(false);
            var angry = await ParquetColumns.ReadDoublesAsync(group, Field(SummaryColumns.ShareAngry), cancellationToken).ConfigureAwait(false);
            var happy = await ParquetColumns.ReadDoublesAsync(group, Field(SummaryColumns.ShareHappy), cancellationToken).ConfigureAwait(false);
            var sad = await ParquetColumns.ReadDoublesAsync(group, Field(SummaryColumns.ShareSad), cancellationToken).ConfigureAwait(false);
            var neutral = await ParquetColumns.ReadDoublesAsync(group, Field(SummaryColumns.ShareNeutral), cancellationToken).ConfigureAwait(false);
            var valence = await ParquetColumns.ReadDoublesAsync(group, Field(SummaryColumns.MeanValence), cancellationToken).ConfigureAwait(false);
            var arousal = await ParquetColumns.ReadDoublesAsync(group, Field(SummaryColumns.MeanArousal), cancellationToken).ConfigureAwait(false);
            var modelNames = await ParquetColumns.ReadStringsAsync(group, Field(SummaryColumns.ModelName), cancellationToken).ConfigureAwait(false);
            var modelVersions = await ParquetColumns.ReadStringsAsync(group, Field(SummaryColumns.ModelVersion), cancellationToken).ConfigureAwait(false);
            var processedAt = await ParquetColumns.ReadTimestampsAsync(group, Field(SummaryColumns.ProcessedAt), cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < ids.Length; i++)
            {
                result.Add(new RecordingSummary(
                    ids[i] ?? "", uris[i] ?? "", etags[i] ?? "",
                    durations[i] ?? 0, speech[i] ?? 0, speechShare[i] ?? 0, (int)(utterances[i] ?? 0), dominant[i],
                    (float)(angry[i] ?? 0), (float)(happy[i] ?? 0), (float)(sad[i] ?? 0), (float)(neutral[i] ?? 0),
                    valence[i] is { } v ? (float)v : null, arousal[i] is { } a ? (float)a : null,
                    modelNames[i] ?? "", modelVersions[i] ?? "", processedAt[i] ?? DateTime.MinValue));
            }
        }
        return result;
    }

    /// <summary>
    /// Where the summary of one recording version lives below the output folder:
    /// <c>summaries/date=YYYY-MM-DD/&lt;id-hash&gt;-&lt;version-hash&gt;.parquet</c>, dated by processing day (UTC) and named
    /// like the recording's utterances file, so writing it again replaces it instead of adding a duplicate.
    /// </summary>
    public static string RelativePath(RecordingSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var key = new RecordingKey(Hashing.ShortHex(summary.RecordingId), Hashing.ShortHex(summary.RecordingId + "\n" + summary.ETag));
        var day = ParquetColumns.AsUtc(summary.ProcessedAtUtc).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return $"{FolderName}/date={day}/{key}.parquet";
    }

    internal static Task WriteNullableAsync<TSummary, T>(
        ParquetRowGroupWriter group, DataField field, IReadOnlyList<TSummary> summaries, Func<TSummary, T?> select, CancellationToken cancellationToken)
        where T : struct =>
        group.WriteAsync(field, (ReadOnlyMemory<T?>)summaries.Select(select).ToArray(), null, null, cancellationToken);

    internal static Task WriteAsync<TSummary, T>(
        ParquetRowGroupWriter group, DataField field, IReadOnlyList<TSummary> summaries, Func<TSummary, T> select, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T[summaries.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(summaries[i]);
        }
        return group.WriteAsync(field, (ReadOnlyMemory<T>)values, null, null, cancellationToken);
    }
}

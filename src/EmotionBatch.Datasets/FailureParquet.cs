using EmotionBatch.Core;
using Parquet;
using Parquet.Schema;
using static EmotionBatch.Datasets.ParquetFields;

namespace EmotionBatch.Datasets;

/// <summary>Column names of the errors dataset: one row per failed attempt at a recording version.</summary>
public static class FailureColumns
{
    public const string Stage = "stage";
    public const string Reason = "reason";
    public const string Attempt = "attempt";
    public const string WillRetry = "will_retry";
    public const string FailedAt = "failed_at";
}

/// <summary>The errors dataset's Parquet schema, writer and reader (docs/schema.md).</summary>
public static class FailureParquet
{
    private static readonly DataField<string> Stage = new(FailureColumns.Stage, nullable: false);
    private static readonly DataField<string> Reason = new(FailureColumns.Reason, nullable: false);
    private static readonly DataField<int> Attempt = new(FailureColumns.Attempt, nullable: false);
    private static readonly DataField<bool> WillRetry = new(FailureColumns.WillRetry, nullable: false);
    private static readonly DateTimeDataField FailedAt = UtcTimestamp(FailureColumns.FailedAt);

    public static ParquetSchema Schema { get; } = new(RecordingId, RecordingUri, ETag, Stage, Reason, Attempt, WillRetry, FailedAt);

    /// <summary>One Parquet file holding <paramref name="rows"/> in one row group.</summary>
    public static Task WriteAsync(IReadOnlyList<FailureRow> rows, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return WriteFileAsync(Schema, destination, async group =>
        {
            await WriteStringsAsync(group, RecordingId, rows, r => r.RecordingId, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, RecordingUri, rows, r => r.RecordingUri, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, ETag, rows, r => r.ETag, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, Stage, rows, r => r.Stage, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, Reason, rows, r => r.Reason, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, Attempt, rows, r => r.Attempt, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, WillRetry, rows, r => r.WillRetry, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, FailedAt, rows, r => AsUtc(r.FailedAtUtc), cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Reads an errors file back (e.g. to tell recordings without speech from ones never processed).</summary>
    public static async Task<IReadOnlyList<FailureRow>> ReadAsync(Stream source, CancellationToken cancellationToken)
    {
        await using var reader = await ParquetReader.CreateAsync(source, null, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
        var columns = new ParquetColumns(reader.Schema, "an errors file");
        var result = new List<FailureRow>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.OpenRowGroupReader(g);
            var ids = await columns.StringsAsync(group, UtteranceColumns.RecordingId, cancellationToken).ConfigureAwait(false);
            var uris = await columns.StringsAsync(group, UtteranceColumns.RecordingUri, cancellationToken).ConfigureAwait(false);
            var etags = await columns.StringsAsync(group, UtteranceColumns.ETag, cancellationToken).ConfigureAwait(false);
            var stages = await columns.StringsAsync(group, FailureColumns.Stage, cancellationToken).ConfigureAwait(false);
            var reasons = await columns.StringsAsync(group, FailureColumns.Reason, cancellationToken).ConfigureAwait(false);
            var attempts = await columns.IntegersAsync(group, FailureColumns.Attempt, cancellationToken).ConfigureAwait(false);
            var retry = await columns.BooleansAsync(group, FailureColumns.WillRetry, cancellationToken).ConfigureAwait(false);
            var failedAt = await columns.TimestampsAsync(group, FailureColumns.FailedAt, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < ids.Length; i++)
            {
                result.Add(new FailureRow(ids[i] ?? "", uris[i] ?? "", etags[i] ?? "", stages[i] ?? "", reasons[i] ?? "",
                    (int)(attempts[i] ?? 0), retry[i] ?? false, failedAt[i] ?? DateTime.MinValue));
            }
        }
        return result;
    }

    /// <summary>Every row of the errors dataset under <paramref name="output"/>; none when it has no errors folder.</summary>
    public static async Task<IReadOnlyList<FailureRow>> ReadAllAsync(string output, CancellationToken cancellationToken = default)
    {
        var result = new List<FailureRow>();
        foreach (var file in DatasetLayout.ParquetFiles(output, DatasetLayout.Errors))
        {
            await using var stream = File.OpenRead(file);
            result.AddRange(await ReadAsync(stream, cancellationToken).ConfigureAwait(false));
        }
        return result;
    }
}

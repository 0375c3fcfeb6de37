using EmotionBatch.Core;
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

/// <summary>The errors dataset's Parquet schema and writer (docs/schema.md).</summary>
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
}

using Parquet;
using Parquet.Schema;

namespace EmotionBatch.Datasets;

/// <summary>
/// Columns that several datasets share (a recording version's identity, the model, the time), defined once so that
/// every dataset names and types them alike, and the helpers every writer uses.
/// </summary>
internal static class ParquetFields
{
    public static readonly DataField<string> RecordingId = new(UtteranceColumns.RecordingId, nullable: false);
    public static readonly DataField<string> RecordingUri = new(UtteranceColumns.RecordingUri, nullable: false);
    public static readonly DataField<string> ETag = new(UtteranceColumns.ETag, nullable: false);
    public static readonly DataField<string> ModelName = new(UtteranceColumns.ModelName, nullable: false);
    public static readonly DataField<string> ModelVersion = new(UtteranceColumns.ModelVersion, nullable: false);
    public static readonly DateTimeDataField ProcessedAt = UtcTimestamp(UtteranceColumns.ProcessedAt);
    public static readonly DataField<int> Channel = new(UtteranceColumns.Channel, nullable: false);
    public static readonly DataField<string> SpeakerRole = new(UtteranceColumns.SpeakerRole, nullable: true);

    /// <summary>Every file is Snappy-compressed.</summary>
    public static readonly ParquetOptions Options = new() { CompressionMethod = CompressionMethod.Snappy };

    /// <summary>Timestamps are UTC, in microseconds, never null.</summary>
    public static DateTimeDataField UtcTimestamp(string name) =>
        new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);

    /// <summary>An Unspecified kind is taken as UTC (the contract says *Utc); a Local one is converted.</summary>
    public static DateTime AsUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    /// <summary>Parquet.Net's text column writer takes no cancellation token; the token is checked before it starts.</summary>
    public static Task WriteStringsAsync<TRow>(ParquetRowGroupWriter group, DataField field, IReadOnlyList<TRow> rows, Func<TRow, string?> select, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var values = new string?[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(rows[i]);
        }
        return group.WriteAsync(field, values!);
    }

    public static Task WriteValuesAsync<TRow, T>(ParquetRowGroupWriter group, DataField field, IReadOnlyList<TRow> rows, Func<TRow, T> select, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(rows[i]);
        }
        return group.WriteAsync(field, (ReadOnlyMemory<T>)values, null, null, cancellationToken);
    }

    public static Task WriteNullableAsync<TRow, T>(ParquetRowGroupWriter group, DataField field, IReadOnlyList<TRow> rows, Func<TRow, T?> select, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T?[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(rows[i]);
        }
        return group.WriteAsync(field, (ReadOnlyMemory<T?>)values, null, null, cancellationToken);
    }

    /// <summary>One file, one row group: a recording's rows are small and always read together.</summary>
    public static async Task WriteFileAsync(ParquetSchema schema, Stream destination, Func<ParquetRowGroupWriter, Task> writeColumns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        await using var writer = await ParquetWriter.CreateAsync(schema, destination, Options, append: false, cancellationToken).ConfigureAwait(false);
        using var group = writer.CreateRowGroup();
        await writeColumns(group).ConfigureAwait(false);
        group.CompleteValidate();
    }

    /// <summary>A file in memory, positioned at its start, ready to be put into an object store.</summary>
    public static async Task<MemoryStream> ToMemoryAsync(Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await write(buffer, cancellationToken).ConfigureAwait(false);
        buffer.Position = 0;
        return buffer;
    }
}

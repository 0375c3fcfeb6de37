using Parquet;
using Parquet.Schema;

namespace EmotionBatch.Datasets;

/// <summary>
/// Reads columns of a file by name into plain arrays, converting between compatible physical types, so that a file
/// written with double instead of float (or an offset timestamp instead of a UTC one) still reads. A required column
/// that is missing is an error naming the file kind; an optional one reads as all nulls (a file older than the column).
/// </summary>
internal sealed class ParquetColumns
{
    private readonly Dictionary<string, DataField> _fields;
    private readonly string _fileKind;

    public ParquetColumns(ParquetSchema schema, string fileKind)
    {
        _fields = schema.DataFields.ToDictionary(field => field.Name, StringComparer.Ordinal);
        _fileKind = fileKind;
    }

    private DataField? Field(string name, bool optional) =>
        _fields.TryGetValue(name, out var field) ? field
        : optional ? null
        : throw new InvalidDataException($"Column {name} is missing; this is not {_fileKind}.");

    public async Task<string?[]> StringsAsync(ParquetRowGroupReader group, string name, CancellationToken cancellationToken, bool optional = false) =>
        Field(name, optional) is { } field ? await ReadStringsAsync(group, field, cancellationToken).ConfigureAwait(false) : new string?[group.RowCount];

    public async Task<double?[]> DoublesAsync(ParquetRowGroupReader group, string name, CancellationToken cancellationToken, bool optional = false) =>
        Field(name, optional) is { } field ? await ReadDoublesAsync(group, field, cancellationToken).ConfigureAwait(false) : new double?[group.RowCount];

    public async Task<long?[]> IntegersAsync(ParquetRowGroupReader group, string name, CancellationToken cancellationToken, bool optional = false) =>
        Field(name, optional) is { } field ? await ReadIntegersAsync(group, field, cancellationToken).ConfigureAwait(false) : new long?[group.RowCount];

    public async Task<bool?[]> BooleansAsync(ParquetRowGroupReader group, string name, CancellationToken cancellationToken, bool optional = false) =>
        Field(name, optional) is { } field ? await ReadBooleansAsync(group, field, cancellationToken).ConfigureAwait(false) : new bool?[group.RowCount];

    public async Task<DateTime?[]> TimestampsAsync(ParquetRowGroupReader group, string name, CancellationToken cancellationToken, bool optional = false) =>
        Field(name, optional) is { } field ? await ReadTimestampsAsync(group, field, cancellationToken).ConfigureAwait(false) : new DateTime?[group.RowCount];

    private static async Task<string?[]> ReadStringsAsync(ParquetRowGroupReader group, DataField field, CancellationToken cancellationToken)
    {
        var count = checked((int)group.RowCount);
        if (field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>))
        {
            var values = new string?[count];
            await group.ReadAsync(field, values.AsMemory()!, null, cancellationToken).ConfigureAwait(false);
            return values;
        }
        throw new InvalidDataException($"Column {field.Name} holds {field.ClrType.Name}, not text.");
    }

    private static async Task<double?[]> ReadDoublesAsync(ParquetRowGroupReader group, DataField field, CancellationToken cancellationToken)
    {
        var type = field.ClrType;
        if (type == typeof(double))
        {
            return await ReadStructAsync<double>(group, field, cancellationToken).ConfigureAwait(false);
        }
        if (type == typeof(float))
        {
            return Convert(await ReadStructAsync<float>(group, field, cancellationToken).ConfigureAwait(false), v => (double)v);
        }
        if (type == typeof(int))
        {
            return Convert(await ReadStructAsync<int>(group, field, cancellationToken).ConfigureAwait(false), v => (double)v);
        }
        if (type == typeof(long))
        {
            return Convert(await ReadStructAsync<long>(group, field, cancellationToken).ConfigureAwait(false), v => (double)v);
        }
        if (type == typeof(decimal))
        {
            return Convert(await ReadStructAsync<decimal>(group, field, cancellationToken).ConfigureAwait(false), v => (double)v);
        }
        throw new InvalidDataException($"Column {field.Name} holds {type.Name}, not a number.");
    }

    private static async Task<long?[]> ReadIntegersAsync(ParquetRowGroupReader group, DataField field, CancellationToken cancellationToken)
    {
        var type = field.ClrType;
        if (type == typeof(int))
        {
            return Convert(await ReadStructAsync<int>(group, field, cancellationToken).ConfigureAwait(false), v => (long)v);
        }
        if (type == typeof(long))
        {
            return await ReadStructAsync<long>(group, field, cancellationToken).ConfigureAwait(false);
        }
        if (type == typeof(short))
        {
            return Convert(await ReadStructAsync<short>(group, field, cancellationToken).ConfigureAwait(false), v => (long)v);
        }
        throw new InvalidDataException($"Column {field.Name} holds {type.Name}, not an integer.");
    }

    private static async Task<bool?[]> ReadBooleansAsync(ParquetRowGroupReader group, DataField field, CancellationToken cancellationToken)
    {
        if (field.ClrType == typeof(bool))
        {
            return await ReadStructAsync<bool>(group, field, cancellationToken).ConfigureAwait(false);
        }
        throw new InvalidDataException($"Column {field.Name} holds {field.ClrType.Name}, not a boolean.");
    }

    /// <summary>Timestamps as UTC <see cref="DateTime"/>; values without a kind are taken as UTC, which is how the dataset is written.</summary>
    private static async Task<DateTime?[]> ReadTimestampsAsync(ParquetRowGroupReader group, DataField field, CancellationToken cancellationToken)
    {
        var type = field.ClrType;
        if (type == typeof(DateTime))
        {
            return Convert(await ReadStructAsync<DateTime>(group, field, cancellationToken).ConfigureAwait(false), ParquetFields.AsUtc);
        }
        if (type == typeof(DateTimeOffset))
        {
            return Convert(await ReadStructAsync<DateTimeOffset>(group, field, cancellationToken).ConfigureAwait(false), v => v.UtcDateTime);
        }
        throw new InvalidDataException($"Column {field.Name} holds {type.Name}, not a timestamp.");
    }

    private static async Task<T?[]> ReadStructAsync<T>(ParquetRowGroupReader group, DataField field, CancellationToken cancellationToken)
        where T : struct
    {
        var count = checked((int)group.RowCount);
        var values = new T?[count];
        if (field.IsNullable)
        {
            await group.ReadAsync(field, values.AsMemory(), null, cancellationToken).ConfigureAwait(false);
            return values;
        }
        var dense = new T[count];
        await group.ReadAsync(field, dense.AsMemory(), null, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < count; i++)
        {
            values[i] = dense[i];
        }
        return values;
    }

    private static TOut?[] Convert<TIn, TOut>(TIn?[] values, Func<TIn, TOut> convert)
        where TIn : struct
        where TOut : struct
    {
        var result = new TOut?[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i] is { } value ? convert(value) : null;
        }
        return result;
    }
}

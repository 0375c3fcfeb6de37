using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EmotionBatch.Inference;

/// <summary>
/// Writes a feature cache folder for training, as <c>encode-text</c> and <c>encode-audio</c> produce it:
/// <c>features.f16</c> (little-endian float16, every item's rows concatenated in input order, row-major
/// [total, dim]; <c>features.f32</c>, little-endian float32, when asked for full precision), <c>index.tsv</c>
/// (header, then id, offset and length in rows per item) and <c>meta.json</c> (format, dim, dtype, totals, and what
/// the caller adds). Training reads the dimension and the element type from meta.json.
/// </summary>
public sealed class FeatureCacheWriter : IAsyncDisposable
{
    public const string FeaturesFile = "features.f16";
    public const string Float32FeaturesFile = "features.f32";
    public const string IndexFile = "index.tsv";
    public const string MetaFile = "meta.json";

    private readonly string _folder;
    private readonly string _unit;
    private readonly string _item;
    private readonly bool _fullPrecision;
    private readonly FileStream _features;
    private readonly StreamWriter _index;
    private byte[] _buffer = [];

    /// <param name="unit">What a row is ("tokens", "frames"): the index columns are offset_&lt;unit&gt; and length_&lt;unit&gt;.</param>
    /// <param name="item">What an item is ("text", "clip"), for meta.json's description of the layout.</param>
    /// <param name="fullPrecision">
    /// Full precision (features.f32) instead of float16: what a bundle's parity cases are computed from, since float16
    /// rounding alone can move a head's outputs by more than the parity tolerance.
    /// </param>
    public FeatureCacheWriter(string folder, int dim, string unit, string item, bool fullPrecision = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        _folder = folder;
        _unit = unit;
        _item = item;
        Dim = dim;
        _fullPrecision = fullPrecision;
        Directory.CreateDirectory(folder);
        _features = new FileStream(Path.Combine(folder, fullPrecision ? Float32FeaturesFile : FeaturesFile), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
        try
        {
            _index = new StreamWriter(Path.Combine(folder, IndexFile), append: false, new UTF8Encoding(false)) { NewLine = "\n" };
            _index.WriteLine($"id\toffset_{unit}\tlength_{unit}");
        }
        catch
        {
            _features.Dispose();
            throw;
        }
    }

    public int Dim { get; }

    /// <summary>Rows written so far.</summary>
    public long Total { get; private set; }

    public int Items { get; private set; }

    /// <summary>Appends one item: <paramref name="rows"/> holds its rows ([length, Dim] row-major); length 0 is allowed.</summary>
    public async Task AddAsync(string id, ReadOnlyMemory<float> rows, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (rows.Length % Dim != 0)
        {
            throw new ArgumentException($"{rows.Length} values are not whole rows of {Dim}.", nameof(rows));
        }
        var length = rows.Length / Dim;
        var width = _fullPrecision ? sizeof(float) : sizeof(ushort);
        if (_buffer.Length < rows.Length * width)
        {
            _buffer = new byte[rows.Length * width];
        }
        var span = rows.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (_fullPrecision)
            {
                BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(i * 4), span[i]);
            }
            else
            {
                BinaryPrimitives.WriteHalfLittleEndian(_buffer.AsSpan(i * 2), (Half)span[i]);
            }
        }
        await _features.WriteAsync(_buffer.AsMemory(0, rows.Length * width), cancellationToken).ConfigureAwait(false);
        await _index.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{id}\t{Total}\t{length}")).ConfigureAwait(false);
        Total += length;
        Items++;
    }

    /// <summary>Flushes the data and writes meta.json: the common fields, then whatever <paramref name="describe"/> adds.</summary>
    public async Task CompleteAsync(Action<Utf8JsonWriter> describe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(describe);
        await _features.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _index.FlushAsync(cancellationToken).ConfigureAwait(false);
        await using var stream = File.Create(Path.Combine(_folder, MetaFile));
        // Written with Utf8JsonWriter rather than reflection so trimmed or AOT-compiled hosts can export too.
        await using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("format_version", 1);
            json.WriteNumber("dim", Dim);
            json.WriteString("dtype", _fullPrecision ? "float32" : "float16");
            json.WriteString("byte_order", "little");
            json.WriteString("layout", $"row-major [total_{_unit}, dim]; {_item} i is rows offset_{_unit} .. offset_{_unit} + length_{_unit} of index.tsv");
            describe(json);
            json.WriteEndObject();
        }
        await stream.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _features.DisposeAsync().ConfigureAwait(false);
        await _index.DisposeAsync().ConfigureAwait(false);
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EmotionBatch.Inference.Bundles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EmotionBatch.Inference.Text;

/// <summary>Per-token features of one text: [Length, Dim] row-major. Length 0 for a blank text (text modality masked).</summary>
public sealed record TokenFeatures(float[] Features, int Length, int Dim);

/// <summary>Settings of <see cref="TextFeatureExtractor.ExportTextFeaturesAsync"/>.</summary>
public sealed class TextFeatureExportOptions
{
    /// <summary>Take the text encoder and tokenizer of this bundle; null uses <see cref="Builtin"/>.</summary>
    public string? BundlePath { get; set; }

    public string Builtin { get; set; } = BuiltinTextEncoders.MiniLmL6V2;

    /// <summary>Tokens per text including [CLS] and [SEP]; ignored when <see cref="BundlePath"/> is set.</summary>
    public int MaxLength { get; set; } = BuiltinTextEncoders.DefaultMaxLength;

    public int BatchSize { get; set; } = 32;

    /// <summary>Execution provider and threads; defaults to CPU-or-CUDA auto selection.</summary>
    public ModelOptions? Model { get; set; }
}

/// <summary>
/// Text -> per-token last_hidden_state, exactly as the worker feeds the fusion head: [CLS] ... [SEP] rows
/// where attention_mask = 1, blank texts give no tokens. Used to prepare training data.
/// </summary>
public sealed partial class TextFeatureExtractor : IDisposable
{
    public const string FeaturesFile = "features.f16";
    public const string IndexFile = "index.tsv";
    public const string MetaFile = "meta.json";

    private const int ExportChunk = 1024;

    private readonly bool _ownsEncoder;

    public TextFeatureExtractor(TextEncoder encoder, int batchSize = 32, bool ownsEncoder = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Encoder = encoder;
        BatchSize = batchSize;
        _ownsEncoder = ownsEncoder;
    }

    public TextEncoder Encoder { get; }
    public int BatchSize { get; }

    public static TextFeatureExtractor CreateBuiltin(
        string name = BuiltinTextEncoders.MiniLmL6V2, int maxLength = BuiltinTextEncoders.DefaultMaxLength, int batchSize = 32, ModelOptions? model = null, ILogger? logger = null)
    {
        var sessions = new SessionFactory(model ?? new ModelOptions(), logger);
        return new TextFeatureExtractor(TextEncoder.FromBuiltin(name, sessions, maxLength), batchSize, ownsEncoder: true);
    }

    public static TextFeatureExtractor FromBundle(string bundlePath, int batchSize = 32, ModelOptions? model = null, ILogger? logger = null)
    {
        var bundle = ModelBundle.Load(bundlePath);
        var sessions = new SessionFactory(model ?? new ModelOptions(), logger);
        return new TextFeatureExtractor(TextEncoder.FromBundle(bundle, sessions), batchSize, ownsEncoder: true);
    }

    /// <summary>Features per text, in input order. Texts are batched by token length internally.</summary>
    public IReadOnlyList<TokenFeatures> Extract(IReadOnlyList<string?> texts, CancellationToken cancellationToken = default)
    {
        var result = new TokenFeatures[texts.Count];
        var tokenized = new List<(int Index, int[] Ids)>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            var text = texts[i];
            if (string.IsNullOrWhiteSpace(text))
            {
                result[i] = new TokenFeatures([], 0, Encoder.Dim);
            }
            else
            {
                tokenized.Add((i, Encoder.Tokenizer.Encode(text)));
            }
        }

        // Similar lengths per batch keep padding, and so wasted compute, small.
        tokenized.Sort((a, b) => a.Ids.Length.CompareTo(b.Ids.Length));
        for (var start = 0; start < tokenized.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var slice = tokenized.GetRange(start, Math.Min(BatchSize, tokenized.Count - start));
            using var encoded = Encoder.Run(slice.ConvertAll(s => s.Ids));
            for (var r = 0; r < slice.Count; r++)
            {
                result[slice[r].Index] = new TokenFeatures(encoded.Row(r).ToArray(), encoded.Lengths[r], Encoder.Dim);
            }
        }
        return result;
    }

    /// <summary>
    /// Reads <paramref name="inputTsv"/> (lines <c>id&lt;TAB&gt;text</c>; an optional first line <c>id&lt;TAB&gt;text</c> is a header)
    /// and writes to <paramref name="outputFolder"/>: <c>features.f16</c> (little-endian float16, all tokens of all texts
    /// concatenated in input order, row-major [sum(L_i), dim]), <c>index.tsv</c> (header, then id, offset_tokens,
    /// length_tokens per text) and <c>meta.json</c>. Blank texts get length 0.
    /// </summary>
    public static async Task ExportTextFeaturesAsync(
        string inputTsv, string outputFolder, TextFeatureExportOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        options ??= new TextFeatureExportOptions();
        logger ??= NullLogger.Instance;
        using var extractor = options.BundlePath is { } bundlePath
            ? FromBundle(bundlePath, options.BatchSize, options.Model, logger)
            : CreateBuiltin(options.Builtin, options.MaxLength, options.BatchSize, options.Model, logger);
        await extractor.ExportAsync(inputTsv, outputFolder, cancellationToken).ConfigureAwait(false);
        LogExported(logger, inputTsv, outputFolder);
    }

    /// <summary>As <see cref="ExportTextFeaturesAsync"/>, with this extractor's encoder.</summary>
    public async Task ExportAsync(string inputTsv, string outputFolder, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(outputFolder);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        var texts = 0;

        await using (var features = new FileStream(Path.Combine(outputFolder, FeaturesFile), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
        await using (var index = new StreamWriter(Path.Combine(outputFolder, IndexFile), append: false, new UTF8Encoding(false)))
        {
            index.NewLine = "\n";
            await index.WriteLineAsync("id\toffset_tokens\tlength_tokens").ConfigureAwait(false);

            var ids = new List<string>(ExportChunk);
            var chunk = new List<string?>(ExportChunk);
            var lineNumber = 0;
            using var reader = new StreamReader(inputTsv, Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                lineNumber++;
                if (line.Length == 0)
                {
                    continue;
                }
                var tab = line.IndexOf('\t');
                if (tab <= 0)
                {
                    throw new InvalidDataException($"{inputTsv}, line {lineNumber}: expected 'id<TAB>text'.");
                }
                var id = line[..tab];
                var text = line[(tab + 1)..];
                if (lineNumber == 1 && id.Equals("id", StringComparison.OrdinalIgnoreCase) && text.Equals("text", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                if (!seen.Add(id))
                {
                    throw new InvalidDataException($"{inputTsv}, line {lineNumber}: duplicate id '{id}'.");
                }
                ids.Add(id);
                chunk.Add(text);
                if (chunk.Count == ExportChunk)
                {
                    offset = await WriteChunkAsync(ids, chunk, features, index, offset, cancellationToken).ConfigureAwait(false);
                    texts += chunk.Count;
                    ids.Clear();
                    chunk.Clear();
                }
            }
            offset = await WriteChunkAsync(ids, chunk, features, index, offset, cancellationToken).ConfigureAwait(false);
            texts += chunk.Count;
        }

        await WriteMetaAsync(Path.Combine(outputFolder, MetaFile), texts, offset, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Written with Utf8JsonWriter rather than reflection so trimmed or AOT-compiled hosts can export too.</summary>
    private async Task WriteMetaAsync(string path, int texts, long totalTokens, CancellationToken cancellationToken)
    {
        await using var stream = File.Create(path);
        await using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("format_version", 1);
            json.WriteNumber("dim", Encoder.Dim);
            json.WriteString("dtype", "float16");
            json.WriteString("byte_order", "little");
            json.WriteString("layout", "row-major [total_tokens, dim]; text i is rows offset_tokens .. offset_tokens + length_tokens of index.tsv");
            json.WriteString("encoder", Encoder.Name);
            json.WriteStartObject("tokenizer");
            json.WriteString("type", Encoder.Tokenizer.Type);
            json.WriteBoolean("lowercase", Encoder.Tokenizer.Lowercase);
            json.WriteNumber("max_length", Encoder.Tokenizer.MaxLength);
            json.WriteBoolean("special_tokens_included", true);
            json.WriteEndObject();
            json.WriteNumber("max_length", Encoder.Tokenizer.MaxLength);
            json.WriteNumber("texts", texts);
            json.WriteNumber("total_tokens", totalTokens);
            json.WriteString("blank_text", "length_tokens 0: the worker masks the text modality");
            json.WriteEndObject();
        }
        await stream.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    private async Task<long> WriteChunkAsync(
        List<string> ids, List<string?> texts, FileStream features, StreamWriter index, long offset, CancellationToken cancellationToken)
    {
        if (texts.Count == 0)
        {
            return offset;
        }
        var extracted = Extract(texts, cancellationToken);
        var bytes = new byte[checked(extracted.Max(e => e.Features.Length) * sizeof(ushort))];
        for (var i = 0; i < extracted.Count; i++)
        {
            var row = extracted[i];
            var size = ToHalfLittleEndian(row.Features, bytes);
            await features.WriteAsync(bytes.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
            await index.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{ids[i]}\t{offset}\t{row.Length}")).ConfigureAwait(false);
            offset += row.Length;
        }
        return offset;
    }

    private static int ToHalfLittleEndian(float[] values, byte[] destination)
    {
        var span = destination.AsSpan();
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(span[(i * 2)..], (Half)values[i]);
        }
        return values.Length * 2;
    }

    public void Dispose()
    {
        if (_ownsEncoder)
        {
            Encoder.Dispose();
        }
    }

    [LoggerMessage(EventId = 2020, Level = LogLevel.Information, Message = "Wrote text features of {Input} to {Output}")]
    private static partial void LogExported(ILogger logger, string input, string output);
}

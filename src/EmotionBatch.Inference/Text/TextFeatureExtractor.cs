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

    /// <summary>Write full-precision features.f32 instead of float16 (for a bundle's parity cases).</summary>
    public bool FullPrecision { get; set; }

    /// <summary>Execution provider and threads; defaults to CPU-or-CUDA auto selection.</summary>
    public ModelOptions? Model { get; set; }
}

/// <summary>
/// Text -> per-token last_hidden_state, exactly as the worker feeds the fusion head: [CLS] ... [SEP] rows
/// where attention_mask = 1, blank texts give no tokens. Used to prepare training data.
/// </summary>
public sealed partial class TextFeatureExtractor : IDisposable
{
    public const string FeaturesFile = FeatureCacheWriter.FeaturesFile;
    public const string IndexFile = FeatureCacheWriter.IndexFile;
    public const string MetaFile = FeatureCacheWriter.MetaFile;

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

    /// <summary>The text encoder of a bundle, which may hold nothing else (a frozen encoder before any head is trained).</summary>
    public static TextFeatureExtractor FromBundle(string bundlePath, int batchSize = 32, ModelOptions? model = null, ILogger? logger = null)
    {
        var graph = ModelBundle.LoadTextEncoder(bundlePath);
        var sessions = new SessionFactory(model ?? new ModelOptions(), logger);
        return new TextFeatureExtractor(TextEncoder.FromGraph(graph, Path.GetFullPath(bundlePath), sessions), batchSize, ownsEncoder: true);
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
        await extractor.ExportAsync(inputTsv, outputFolder, options.FullPrecision, cancellationToken).ConfigureAwait(false);
        LogExported(logger, inputTsv, outputFolder);
    }

    /// <summary>As <see cref="ExportTextFeaturesAsync"/>, with this extractor's encoder.</summary>
    public Task ExportAsync(string inputTsv, string outputFolder, CancellationToken cancellationToken = default) =>
        ExportAsync(inputTsv, outputFolder, fullPrecision: false, cancellationToken);

    /// <summary>As <see cref="ExportTextFeaturesAsync"/>, with this extractor's encoder; <paramref name="fullPrecision"/> writes features.f32.</summary>
    public async Task ExportAsync(string inputTsv, string outputFolder, bool fullPrecision, CancellationToken cancellationToken = default)
    {
        await using var cache = new FeatureCacheWriter(outputFolder, Encoder.Dim, "tokens", "text", fullPrecision);
        var ids = new List<string>(ExportChunk);
        var chunk = new List<string?>(ExportChunk);
        await foreach (var (id, text) in TsvInput.ReadAsync(inputTsv, "text", cancellationToken).ConfigureAwait(false))
        {
            ids.Add(id);
            chunk.Add(text);
            if (chunk.Count == ExportChunk)
            {
                await WriteChunkAsync(ids, chunk, cache, cancellationToken).ConfigureAwait(false);
                ids.Clear();
                chunk.Clear();
            }
        }
        await WriteChunkAsync(ids, chunk, cache, cancellationToken).ConfigureAwait(false);

        await cache.CompleteAsync(json =>
        {
            json.WriteString("encoder", Encoder.Name);
            json.WriteStartObject("tokenizer");
            json.WriteString("type", Encoder.Tokenizer.Type);
            json.WriteBoolean("lowercase", Encoder.Tokenizer.Lowercase);
            json.WriteNumber("max_length", Encoder.Tokenizer.MaxLength);
            json.WriteBoolean("special_tokens_included", true);
            json.WriteEndObject();
            json.WriteNumber("max_length", Encoder.Tokenizer.MaxLength);
            json.WriteNumber("texts", cache.Items);
            json.WriteNumber("total_tokens", cache.Total);
            json.WriteString("blank_text", "length_tokens 0: the worker masks the text modality");
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteChunkAsync(List<string> ids, List<string?> texts, FeatureCacheWriter cache, CancellationToken cancellationToken)
    {
        if (texts.Count == 0)
        {
            return;
        }
        var extracted = Extract(texts, cancellationToken);
        for (var i = 0; i < extracted.Count; i++)
        {
            await cache.AddAsync(ids[i], extracted[i].Features.AsMemory(0, extracted[i].Length * extracted[i].Dim), cancellationToken).ConfigureAwait(false);
        }
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

using System.Buffers;
using EmotionBatch.Inference.Bundles;
using Microsoft.ML.OnnxRuntime;

namespace EmotionBatch.Inference.Text;

/// <summary>One long-lived text-encoder session plus its tokenizer: text -> per-token last_hidden_state.</summary>
public sealed class TextEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly TextInputs _inputs;
    private readonly string _output;
    private readonly bool _takesTokenTypes;
    // Shared by concurrent runs: it only carries settings, and nothing here ever sets its terminate flag.
    private readonly RunOptions _runOptions = new();

    private TextEncoder(string name, InferenceSession session, TextTokenizer tokenizer, int dim, TextInputs inputs, TextOutputs outputs)
    {
        Name = name;
        _session = session;
        Tokenizer = tokenizer;
        Dim = dim;
        _inputs = inputs;
        _output = outputs.Features;
        // DeBERTa-style exports may drop token_type_ids; feed only what the graph declares.
        _takesTokenTypes = session.InputMetadata.ContainsKey(inputs.TokenTypeIds);
        foreach (var required in new[] { inputs.InputIds, inputs.AttentionMask })
        {
            if (!session.InputMetadata.ContainsKey(required))
            {
                throw new InvalidOperationException($"Text encoder '{name}' has no input '{required}'; it has: {string.Join(", ", session.InputMetadata.Keys)}.");
            }
        }
        if (!session.OutputMetadata.ContainsKey(_output))
        {
            throw new InvalidOperationException($"Text encoder '{name}' has no output '{_output}'; it has: {string.Join(", ", session.OutputMetadata.Keys)}.");
        }
    }

    /// <summary>Encoder name: the built-in name, or the bundle's ONNX file name.</summary>
    public string Name { get; }
    public int Dim { get; }
    public TextTokenizer Tokenizer { get; }

    public static TextEncoder FromBuiltin(string name, SessionFactory sessions, int maxLength = BuiltinTextEncoders.DefaultMaxLength)
    {
        if (!BuiltinTextEncoders.TryGetDim(name, out var dim))
        {
            throw new NotSupportedException($"Unknown built-in text encoder '{name}'; known: {string.Join(", ", BuiltinTextEncoders.Names)}.");
        }
        var tokenizer = BuiltinTextEncoders.CreateTokenizer(name, maxLength);
        var session = sessions.CreateSession(BuiltinTextEncoders.LoadModel(name));
        return new TextEncoder(name, session, tokenizer, dim, new TextInputs(), new TextOutputs());
    }

    public static TextEncoder FromBundle(ModelBundle bundle, SessionFactory sessions)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return FromGraph(bundle.TextEncoder, bundle.Directory, sessions);
    }

    /// <summary>The text encoder a bundle's manifest describes (<see cref="ModelBundle.LoadTextEncoder"/> reads one alone).</summary>
    public static TextEncoder FromGraph(TextGraph spec, string bundleDirectory, SessionFactory sessions)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(sessions);
        if (spec.Builtin is not null)
        {
            return FromBuiltin(spec.Builtin, sessions, spec.Tokenizer.MaxLength);
        }
        if (spec is not { Path: { } path, TokenizerPath: { } tokenizerPath })
        {
            throw new ModelBundleException(bundleDirectory, "text_encoder", "names neither a built-in encoder nor a graph file with its tokenizer file.");
        }
        var tokenizer = TextTokenizer.Create(spec.Tokenizer, tokenizerPath);
        var session = sessions.CreateSession(path);
        return new TextEncoder(Path.GetRelativePath(bundleDirectory, path), session, tokenizer, spec.Dim, spec.Inputs, spec.Outputs);
    }

    /// <summary>Runs one padded batch. The caller disposes the result; rows keep their order.</summary>
    internal EncodedTokens Run(IReadOnlyList<int[]> rows)
    {
        var batch = rows.Count;
        var length = 1;
        foreach (var ids in rows)
        {
            length = Math.Max(length, ids.Length);
        }
        var count = batch * length;
        var idsBuffer = ArrayPool<long>.Shared.Rent(count);
        var maskBuffer = ArrayPool<long>.Shared.Rent(count);
        var typesBuffer = ArrayPool<long>.Shared.Rent(count);
        try
        {
            var ids = idsBuffer.AsSpan(0, count);
            var mask = maskBuffer.AsSpan(0, count);
            ids.Clear();
            mask.Clear();
            typesBuffer.AsSpan(0, count).Clear();
            var lengths = new int[batch];
            for (var b = 0; b < batch; b++)
            {
                var row = rows[b];
                lengths[b] = row.Length;
                for (var t = 0; t < row.Length; t++)
                {
                    ids[b * length + t] = row[t];
                    mask[b * length + t] = 1;
                }
            }

            long[] shape = [batch, length];
            using var idsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, idsBuffer.AsMemory(0, count), shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, maskBuffer.AsMemory(0, count), shape);
            using var typesValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, typesBuffer.AsMemory(0, count), shape);
            var names = new List<string>(3) { _inputs.InputIds, _inputs.AttentionMask };
            var values = new List<OrtValue>(3) { idsValue, maskValue };
            if (_takesTokenTypes)
            {
                names.Add(_inputs.TokenTypeIds);
                values.Add(typesValue);
            }
            var outputs = _session.Run(_runOptions, names, values, [_output]);
            var features = outputs[0];
            var outShape = features.GetTensorTypeAndShape().Shape;
            if (outShape.Length != 3 || outShape[0] != batch || outShape[1] != length || outShape[2] != Dim)
            {
                outputs.Dispose();
                throw new InvalidOperationException(
                    $"Text encoder '{Name}' returned shape [{string.Join(", ", outShape)}]; expected [{batch}, {length}, {Dim}].");
            }
            return new EncodedTokens(outputs, length, Dim, lengths);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(idsBuffer);
            ArrayPool<long>.Shared.Return(maskBuffer);
            ArrayPool<long>.Shared.Return(typesBuffer);
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}

/// <summary>Output of one text-encoder batch: [B, L, D] features; only the first Lengths[b] tokens of row b are real.</summary>
internal sealed class EncodedTokens(IDisposableReadOnlyCollection<OrtValue> outputs, int paddedLength, int dim, int[] lengths) : IDisposable
{
    public int PaddedLength { get; } = paddedLength;
    public int Dim { get; } = dim;
    public int[] Lengths { get; } = lengths;

    /// <summary>The real tokens of row <paramref name="row"/>: [Lengths[row], Dim] row-major.</summary>
    public ReadOnlySpan<float> Row(int row) =>
        outputs[0].GetTensorDataAsSpan<float>().Slice(row * PaddedLength * Dim, Lengths[row] * Dim);

    public void Dispose() => outputs.Dispose();
}

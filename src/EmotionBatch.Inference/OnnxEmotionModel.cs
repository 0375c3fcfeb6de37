using System.Buffers;
using EmotionBatch.Core;
using EmotionBatch.Inference.Bundles;
using EmotionBatch.Inference.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmotionBatch.Inference;

/// <summary>
/// Runs a model bundle with ONNX Runtime: acoustic encoder, text encoder (only for rows with a transcript) and
/// fusion head, each one long-lived session. Thread safe: sessions may run concurrently, buffers are per call.
/// </summary>
public sealed partial class OnnxEmotionModel : IEmotionModel, IDisposable
{
    private readonly ModelBundle _bundle;
    private readonly int _batchSize;
    private readonly AcousticEncoder _acoustic;
    private readonly InferenceSession _fusion;
    private readonly TextEncoder _text;
    private readonly string[] _fusionOutputs;
    // Shared by concurrent runs: it only carries settings, and nothing here ever sets its terminate flag.
    private readonly RunOptions _runOptions = new();

    public OnnxEmotionModel(ModelBundle bundle, ModelOptions options, ILogger<OnnxEmotionModel>? logger = null)
    {
        ILogger log = logger ?? NullLogger<OnnxEmotionModel>.Instance;
        _bundle = bundle;
        _batchSize = options.BatchSize;
        var sessions = new SessionFactory(options, log);
        ExecutionProvider = sessions.ExecutionProvider;
        var f = bundle.FusionHead;
        _fusionOutputs = [f.Outputs.Logits, f.Outputs.Valence, f.Outputs.Arousal];
        try
        {
            _acoustic = new AcousticEncoder(bundle.AcousticEncoder, bundle.MaxAudioSamples, sessions);
            _fusion = sessions.CreateSession(bundle.FusionHeadPath);
            _text = TextEncoder.FromBundle(bundle, sessions);
            CheckGraphs();
        }
        catch
        {
            // A graph that disagrees with its manifest must not leave native sessions behind.
            _acoustic?.Dispose();
            _fusion?.Dispose();
            _text?.Dispose();
            _runOptions.Dispose();
            throw;
        }

        LogLoaded(log, bundle.Info.Name, bundle.Info.Version, bundle.Directory, ExecutionProvider);
        if (!bundle.Info.Trained)
        {
            LogUntrained(log, bundle.Info.Name);
        }
    }

    public ModelBundleInfo Bundle => _bundle.Info;

    /// <summary>The bundle this model runs (its graphs' paths and manifest).</summary>
    public ModelBundle LoadedBundle => _bundle;

    public int PreferredBatchSize => _batchSize;

    public ExecutionProviderKind ExecutionProvider { get; }

    /// <summary>The bundle's text encoder, for callers that need token features without the heads.</summary>
    public TextEncoder TextEncoder => _text;

    public static OnnxEmotionModel Load(string bundlePath, ModelOptions? options = null, ILogger<OnnxEmotionModel>? logger = null) =>
        new(ModelBundle.Load(bundlePath), options ?? new ModelOptions { BundlePath = bundlePath }, logger);

    /// <summary>Runs on the thread pool: inference is CPU- or GPU-bound and blocking.</summary>
    public Task<IReadOnlyList<EmotionPrediction>> PredictAsync(IReadOnlyList<EmotionInput> batch, CancellationToken cancellationToken) =>
        Task.Run(() => Predict(batch, cancellationToken), cancellationToken);

    public IReadOnlyList<EmotionPrediction> Predict(IReadOnlyList<EmotionInput> batch, CancellationToken cancellationToken = default)
    {
        var outputs = Run(batch, cancellationToken);
        var predictions = new EmotionPrediction[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            predictions[i] = ToPrediction(outputs[i]);
        }
        return predictions;
    }

    /// <summary>The whole chain, transcripts through the tokenizer and text encoder: raw head outputs (what parity.json checks with <c>text</c>).</summary>
    internal FusionOutput[] Run(IReadOnlyList<EmotionInput> batch, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0)
        {
            return [];
        }
        var waveforms = new ReadOnlyMemory<float>[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            waveforms[i] = batch[i].Samples;
        }
        using var acoustic = RunAcoustic(waveforms);
        cancellationToken.ThrowIfCancellationRequested();

        var withText = new List<int>(batch.Count);
        var ids = new List<int[]>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (!string.IsNullOrWhiteSpace(batch[i].Transcript))
            {
                withText.Add(i);
                ids.Add(_text.Tokenizer.Encode(batch[i].Transcript!));
            }
        }

        FusionOutput[] outputs;
        if (withText.Count == 0)
        {
            outputs = RunFusion(acoustic, batch.Count, length: 1, fill: static (_, _) => { });
        }
        else
        {
            using var encoded = _text.Run(ids);
            cancellationToken.ThrowIfCancellationRequested();
            var dim = _text.Dim;
            outputs = RunFusion(acoustic, batch.Count, encoded.PaddedLength, (features, mask) =>
            {
                for (var r = 0; r < withText.Count; r++)
                {
                    var b = withText[r];
                    var tokens = encoded.Lengths[r];
                    encoded.Row(r).CopyTo(features.Slice(b * encoded.PaddedLength * dim, tokens * dim));
                    mask.Slice(b * encoded.PaddedLength, tokens).Fill(1f);
                }
            });
        }
        return outputs;
    }

    /// <summary>
    /// Acoustic encoder + fusion head with token features given directly ([L_i, Dt] row-major, null = text masked):
    /// what parity.json checks.
    /// </summary>
    internal FusionOutput[] RunWithTextFeatures(IReadOnlyList<ReadOnlyMemory<float>> waveforms, IReadOnlyList<float[]?> textFeatures)
    {
        using var acoustic = RunAcoustic(waveforms);
        var dim = _text.Dim;
        var length = Math.Max(1, textFeatures.Max(t => t is null ? 0 : t.Length / dim));
        return RunFusion(acoustic, waveforms.Count, length, (features, mask) =>
        {
            for (var b = 0; b < textFeatures.Count; b++)
            {
                if (textFeatures[b] is { } row)
                {
                    row.CopyTo(features.Slice(b * length * dim, row.Length));
                    mask.Slice(b * length, row.Length / dim).Fill(1f);
                }
            }
        });
    }

    private IDisposableReadOnlyCollection<OrtValue> RunAcoustic(IReadOnlyList<ReadOnlyMemory<float>> waveforms) => _acoustic.Run(waveforms);

    private delegate void TextFill(Span<float> features, Span<float> mask);

    private FusionOutput[] RunFusion(IDisposableReadOnlyCollection<OrtValue> acoustic, int batch, int length, TextFill fill)
    {
        var dim = _text.Dim;
        var featureCount = checked(batch * length * dim);
        var maskCount = batch * length;
        var features = ArrayPool<float>.Shared.Rent(featureCount);
        var mask = ArrayPool<float>.Shared.Rent(maskCount);
        try
        {
            features.AsSpan(0, featureCount).Clear();
            mask.AsSpan(0, maskCount).Clear();
            fill(features.AsSpan(0, featureCount), mask.AsSpan(0, maskCount));

            var inputs = _bundle.FusionHead.Inputs;
            using var featuresValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, features.AsMemory(0, featureCount), [batch, length, dim]);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask.AsMemory(0, maskCount), [batch, length]);
            // The acoustic outputs go straight in: no copy between the two graphs.
            using var outputs = _fusion.Run(
                _runOptions,
                [inputs.AcousticFeatures, inputs.AcousticMask, inputs.TextFeatures, inputs.TextMask],
                [acoustic[0], acoustic[1], featuresValue, maskValue],
                _fusionOutputs);

            var logits = outputs[0].GetTensorDataAsSpan<float>();
            var valence = outputs[1].GetTensorDataAsSpan<float>();
            var arousal = outputs[2].GetTensorDataAsSpan<float>();
            var labels = EmotionLabels.All.Count;
            if (logits.Length != batch * labels || valence.Length != batch || arousal.Length != batch)
            {
                throw new InvalidOperationException(
                    $"Fusion head returned {logits.Length} logits, {valence.Length} valence and {arousal.Length} arousal values for a batch of {batch}; expected [{batch}, {labels}], [{batch}], [{batch}].");
            }
            var result = new FusionOutput[batch];
            for (var b = 0; b < batch; b++)
            {
                result[b] = new FusionOutput(logits.Slice(b * labels, labels).ToArray(), valence[b], arousal[b]);
            }
            return result;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
            ArrayPool<float>.Shared.Return(mask);
        }
    }

    private EmotionPrediction ToPrediction(FusionOutput output)
    {
        Span<float> p = stackalloc float[output.Logits.Length];
        var max = float.NegativeInfinity;
        foreach (var l in output.Logits)
        {
            max = Math.Max(max, l);
        }
        var sum = 0f;
        for (var i = 0; i < p.Length; i++)
        {
            p[i] = MathF.Exp(output.Logits[i] - max);
            sum += p[i];
        }
        var best = 0;
        for (var i = 0; i < p.Length; i++)
        {
            p[i] /= sum;
            if (p[i] > p[best])
            {
                best = i;
            }
        }
        if (!float.IsFinite(sum) || !float.IsFinite(output.Valence) || !float.IsFinite(output.Arousal))
        {
            throw new InvalidOperationException($"Model bundle {Bundle.Name} produced non-finite outputs.");
        }
        return new EmotionPrediction(EmotionLabels.All[best], p[0], p[1], p[2], p[3], output.Valence, output.Arousal);
    }

    /// <summary>Fails at load, not on the first batch, when graphs and manifest disagree.</summary>
    private void CheckGraphs()
    {
        var a = _bundle.AcousticEncoder;
        var f = _bundle.FusionHead;
        Expect(_acoustic.Session, "acoustic encoder", _bundle.AcousticEncoderPath, inputs: [a.Inputs.Waveform, a.Inputs.Lengths], outputs: [a.Outputs.Features, a.Outputs.Mask]);
        Expect(_fusion, "fusion head", _bundle.FusionHeadPath,
            inputs: [f.Inputs.AcousticFeatures, f.Inputs.AcousticMask, f.Inputs.TextFeatures, f.Inputs.TextMask], outputs: _fusionOutputs);
        var producedMask = _acoustic.Session.OutputMetadata[a.Outputs.Mask].ElementDataType;
        var expectedMask = _fusion.InputMetadata[f.Inputs.AcousticMask].ElementDataType;
        if (producedMask != expectedMask)
        {
            throw new ModelBundleException(_bundle.FusionHeadPath, "fusion_head.inputs.acoustic_mask",
                $"the fusion head wants {expectedMask} but the acoustic encoder produces {producedMask}.");
        }
        if (_fusion.InputMetadata[f.Inputs.TextMask].ElementDataType != TensorElementType.Float)
        {
            throw new ModelBundleException(_bundle.FusionHeadPath, "fusion_head.inputs.text_mask", "must be a float tensor (1 = token).");
        }
    }

    private static void Expect(InferenceSession session, string what, string file, string[] inputs, string[] outputs)
    {
        foreach (var name in inputs.Where(n => !session.InputMetadata.ContainsKey(n)))
        {
            throw new ModelBundleException(file, what, $"graph has no input '{name}'; it has: {string.Join(", ", session.InputMetadata.Keys)}.");
        }
        foreach (var name in outputs.Where(n => !session.OutputMetadata.ContainsKey(n)))
        {
            throw new ModelBundleException(file, what, $"graph has no output '{name}'; it has: {string.Join(", ", session.OutputMetadata.Keys)}.");
        }
    }

    public void Dispose()
    {
        _acoustic.Dispose();
        _fusion.Dispose();
        _text.Dispose();
        _runOptions.Dispose();
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Loaded model bundle {Name} {Version} from {Directory} on {Provider}")]
    private static partial void LogLoaded(ILogger logger, string name, string version, string directory, ExecutionProviderKind provider);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "bundle {Name} is untrained: its outputs are not emotions")]
    private static partial void LogUntrained(ILogger logger, string name);
}

/// <summary>Raw fusion-head outputs of one utterance.</summary>
internal sealed record FusionOutput(float[] Logits, float Valence, float Arousal);

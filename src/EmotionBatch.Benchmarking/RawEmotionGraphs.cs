using System.Diagnostics;
using EmotionBatch.Inference;
using EmotionBatch.Inference.Bundles;
using Microsoft.ML.OnnxRuntime;

namespace EmotionBatch.Benchmarking;

/// <summary>Seconds spent in each graph for one batch.</summary>
public readonly record struct GraphTimes(double Acoustic, double Text, double Fusion)
{
    public double Total => Acoustic + Text + Fusion;

    public static GraphTimes operator +(GraphTimes a, GraphTimes b) => new(a.Acoustic + b.Acoustic, a.Text + b.Text, a.Fusion + b.Fusion);
}

/// <summary>
/// The bundle's three graphs driven with bare <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// calls on inputs built beforehand: the floor that <see cref="OnnxEmotionModel"/> is compared with. Sessions come from
/// the same <see cref="SessionFactory"/> settings, and inputs follow the same padding rules, so both run identical tensors.
/// </summary>
public sealed class RawEmotionGraphs : IDisposable
{
    private readonly ModelBundle _bundle;
    private readonly InferenceSession _acoustic;
    private readonly InferenceSession _text;
    private readonly InferenceSession _fusion;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _acousticInputs;
    private readonly string[] _acousticOutputs;
    private readonly string[] _textInputs;
    private readonly string[] _textOutputs;
    private readonly string[] _fusionInputs;
    private readonly string[] _fusionOutputs;

    public RawEmotionGraphs(ModelBundle bundle, ModelOptions options)
    {
        _bundle = bundle;
        var sessions = new SessionFactory(options);
        _acoustic = sessions.CreateSession(bundle.AcousticEncoderPath);
        _fusion = sessions.CreateSession(bundle.FusionHeadPath);
        var text = bundle.TextEncoder;
        _text = text switch
        {
            { Builtin: { } builtin } => sessions.CreateSession(BuiltinTextEncoders.LoadModel(builtin)),
            { Path: { } path } => sessions.CreateSession(path),
            _ => throw new ModelBundleException(bundle.Directory, "text_encoder", "names neither a built-in encoder nor a graph file."),
        };
        TextDim = text.Dim;

        var a = bundle.AcousticEncoder;
        _acousticInputs = [a.Inputs.Waveform, a.Inputs.Lengths];
        _acousticOutputs = [a.Outputs.Features, a.Outputs.Mask];
        _textInputs = _text.InputMetadata.ContainsKey(text.Inputs.TokenTypeIds)
            ? [text.Inputs.InputIds, text.Inputs.AttentionMask, text.Inputs.TokenTypeIds]
            : [text.Inputs.InputIds, text.Inputs.AttentionMask];
        _textOutputs = [text.Outputs.Features];
        var f = bundle.FusionHead;
        _fusionInputs = [f.Inputs.AcousticFeatures, f.Inputs.AcousticMask, f.Inputs.TextFeatures, f.Inputs.TextMask];
        _fusionOutputs = [f.Outputs.Logits, f.Outputs.Valence, f.Outputs.Arousal];
    }

    public int TextDim { get; }

    /// <summary>
    /// Builds the tensors of one batch as <see cref="OnnxEmotionModel"/> would: waveforms zero-padded to the longest
    /// (<see cref="WaveformBatch"/>), token ids padded to the longest row.
    /// <paramref name="tokenIds"/> null: text masked for the whole batch.
    /// </summary>
    public PreparedBatch Prepare(IReadOnlyList<ReadOnlyMemory<float>> waveforms, IReadOnlyList<int[]>? tokenIds)
    {
        var batch = waveforms.Count;
        var maxSamples = _bundle.MaxAudioSamples;
        var padded = WaveformBatch.PaddedLength(waveforms, maxSamples);
        var samples = new float[batch * padded];
        var lengths = new long[batch];
        WaveformBatch.Fill(waveforms, maxSamples, padded, samples, lengths);
        var prepared = new PreparedBatch(batch)
        {
            Waveform = OrtValue.CreateTensorValueFromMemory(samples, [batch, padded]),
            Lengths = OrtValue.CreateTensorValueFromMemory(lengths, [batch]),
        };

        if (tokenIds is null)
        {
            prepared.TextFeatures = OrtValue.CreateTensorValueFromMemory(new float[batch * TextDim], [batch, 1, TextDim]);
            prepared.TextMask = OrtValue.CreateTensorValueFromMemory(new float[batch], [batch, 1]);
            return prepared;
        }

        var length = Math.Max(1, tokenIds.Max(t => t.Length));
        var ids = new long[batch * length];
        var mask = new long[batch * length];
        var maskFloat = new float[batch * length];
        for (var b = 0; b < batch; b++)
        {
            for (var t = 0; t < tokenIds[b].Length; t++)
            {
                ids[b * length + t] = tokenIds[b][t];
                mask[b * length + t] = 1;
                maskFloat[b * length + t] = 1f;
            }
        }
        prepared.TokenIds = OrtValue.CreateTensorValueFromMemory(ids, [batch, length]);
        prepared.AttentionMask = OrtValue.CreateTensorValueFromMemory(mask, [batch, length]);
        prepared.TokenTypes = OrtValue.CreateTensorValueFromMemory(new long[batch * length], [batch, length]);
        prepared.TextMask = OrtValue.CreateTensorValueFromMemory(maskFloat, [batch, length]);
        return prepared;
    }

    /// <summary>Acoustic encoder, text encoder (when the batch has text) and fusion head; seconds in each.</summary>
    public GraphTimes Run(PreparedBatch batch) => Run(batch, logits: null);

    /// <summary>As <see cref="Run(PreparedBatch)"/>, copying the logits out for a parity check.</summary>
    public GraphTimes Run(PreparedBatch batch, float[]? logits)
    {
        // Releasing the outputs is part of a run: the wrapper's timing includes it, so the floor must too.
        var start = Stopwatch.GetTimestamp();
        var acoustic = _acoustic.Run(_runOptions, _acousticInputs, [batch.Waveform!, batch.Lengths!], _acousticOutputs);
        var afterAcoustic = Stopwatch.GetTimestamp();
        var afterText = afterAcoustic;
        IDisposableReadOnlyCollection<OrtValue>? text = null;
        try
        {
            OrtValue textFeatures;
            if (batch.TokenIds is not null)
            {
                OrtValue[] inputs = _textInputs.Length == 3
                    ? [batch.TokenIds, batch.AttentionMask!, batch.TokenTypes!]
                    : [batch.TokenIds, batch.AttentionMask!];
                text = _text.Run(_runOptions, _textInputs, inputs, _textOutputs);
                textFeatures = text[0];
            }
            else
            {
                textFeatures = batch.TextFeatures!;
            }
            afterText = Stopwatch.GetTimestamp();

            using var fused = _fusion.Run(_runOptions, _fusionInputs, [acoustic[0], acoustic[1], textFeatures, batch.TextMask!], _fusionOutputs);
            if (logits is not null)
            {
                fused[0].GetTensorDataAsSpan<float>().CopyTo(logits);
            }
        }
        finally
        {
            text?.Dispose();
            acoustic.Dispose();
        }
        var end = Stopwatch.GetTimestamp();
        return new GraphTimes(
            Stopwatch.GetElapsedTime(start, afterAcoustic).TotalSeconds,
            Stopwatch.GetElapsedTime(afterAcoustic, afterText).TotalSeconds,
            Stopwatch.GetElapsedTime(afterText, end).TotalSeconds);
    }

    /// <summary>The acoustic encoder alone.</summary>
    public double RunAcoustic(PreparedBatch batch)
    {
        var start = Stopwatch.GetTimestamp();
        _acoustic.Run(_runOptions, _acousticInputs, [batch.Waveform!, batch.Lengths!], _acousticOutputs).Dispose();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    public void Dispose()
    {
        _acoustic.Dispose();
        _text.Dispose();
        _fusion.Dispose();
        _runOptions.Dispose();
    }
}

/// <summary>Input tensors of one batch, over arrays owned by the batch.</summary>
public sealed class PreparedBatch(int count) : IDisposable
{
    public int Count { get; } = count;
    public OrtValue? Waveform { get; internal set; }
    public OrtValue? Lengths { get; internal set; }
    public OrtValue? TokenIds { get; internal set; }
    public OrtValue? AttentionMask { get; internal set; }
    public OrtValue? TokenTypes { get; internal set; }
    /// <summary>Zero features for a text-masked batch.</summary>
    public OrtValue? TextFeatures { get; internal set; }
    public OrtValue? TextMask { get; internal set; }

    public void Dispose()
    {
        Waveform?.Dispose();
        Lengths?.Dispose();
        TokenIds?.Dispose();
        AttentionMask?.Dispose();
        TokenTypes?.Dispose();
        TextFeatures?.Dispose();
        TextMask?.Dispose();
    }
}

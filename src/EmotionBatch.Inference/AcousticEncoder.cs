using System.Buffers;
using EmotionBatch.Inference.Bundles;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmotionBatch.Inference;

/// <summary>
/// A bundle's acoustic encoder graph on one long-lived session: waveforms in (padded and centre-cut by
/// <see cref="WaveformBatch"/>), frame features and their mask out. The model runs it before its fusion head, and
/// <c>encode-audio</c> runs it to cache a frozen encoder's features for training, so both see identical frames.
/// </summary>
public sealed class AcousticEncoder : IDisposable
{
    private readonly AcousticGraph _graph;
    private readonly string[] _outputs;
    // Shared by concurrent runs: it only carries settings, and nothing here ever sets its terminate flag.
    private readonly RunOptions _runOptions = new();

    public AcousticEncoder(AcousticGraph graph, int maxAudioSamples, SessionFactory sessions)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(sessions);
        _graph = graph;
        MaxAudioSamples = maxAudioSamples;
        _outputs = [graph.Outputs.Features, graph.Outputs.Mask];
        try
        {
            Session = sessions.CreateSession(graph.Path);
        }
        catch
        {
            _runOptions.Dispose();
            throw;
        }
    }

    public int Dim => _graph.Dim;

    public int MaxAudioSamples { get; }

    public AcousticGraph Graph => _graph;

    internal InferenceSession Session { get; }

    /// <summary>Features [B, T, Dim] and mask [B, T] of one batch; the caller disposes them.</summary>
    internal IDisposableReadOnlyCollection<OrtValue> Run(IReadOnlyList<ReadOnlyMemory<float>> waveforms)
    {
        var batch = waveforms.Count;
        var padded = WaveformBatch.PaddedLength(waveforms, MaxAudioSamples);
        var count = checked(batch * padded);
        var samples = ArrayPool<float>.Shared.Rent(count);
        var lengths = ArrayPool<long>.Shared.Rent(batch);
        try
        {
            WaveformBatch.Fill(waveforms, MaxAudioSamples, padded, samples.AsSpan(0, count), lengths.AsSpan(0, batch));
            using var waveformValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, samples.AsMemory(0, count), [batch, padded]);
            using var lengthsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, lengths.AsMemory(0, batch), [batch]);
            var outputs = Session.Run(_runOptions, [_graph.Inputs.Waveform, _graph.Inputs.Lengths], [waveformValue, lengthsValue], _outputs);
            var shape = outputs[0].GetTensorTypeAndShape().Shape;
            if (shape.Length != 3 || shape[0] != batch || shape[2] != Dim)
            {
                outputs.Dispose();
                throw new InvalidOperationException(
                    $"Acoustic encoder returned shape [{string.Join(", ", shape)}]; expected [{batch}, T, {Dim}] (manifest acoustic_encoder.dim).");
            }
            return outputs;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(samples);
            ArrayPool<long>.Shared.Return(lengths);
        }
    }

    /// <summary>The valid frames of each waveform ([frames, Dim] row-major), as the fusion head would receive them.</summary>
    public IReadOnlyList<float[]> Extract(IReadOnlyList<ReadOnlyMemory<float>> waveforms)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        if (waveforms.Count == 0)
        {
            return [];
        }
        using var outputs = Run(waveforms);
        var features = outputs[0].GetTensorDataAsSpan<float>();
        var frames = (int)outputs[0].GetTensorTypeAndShape().Shape[1];
        var mask = MaskAsFloats(outputs[1]);
        var result = new float[waveforms.Count][];
        for (var b = 0; b < waveforms.Count; b++)
        {
            var valid = 0;
            for (var t = 0; t < frames; t++)
            {
                valid += mask[b * frames + t] > 0.5f ? 1 : 0;
            }
            // Valid frames come first: encoders mask the padded tail.
            result[b] = features.Slice(b * frames * Dim, valid * Dim).ToArray();
        }
        return result;
    }

    /// <summary>The mask as 0/1 floats, whatever element type the graph gives it (float, bool or int64).</summary>
    private static float[] MaskAsFloats(OrtValue mask)
    {
        var type = mask.GetTensorTypeAndShape().ElementDataType;
        return type switch
        {
            TensorElementType.Float => mask.GetTensorDataAsSpan<float>().ToArray(),
            TensorElementType.Bool => Array.ConvertAll(mask.GetTensorDataAsSpan<bool>().ToArray(), v => v ? 1f : 0f),
            TensorElementType.Int64 => Array.ConvertAll(mask.GetTensorDataAsSpan<long>().ToArray(), v => v != 0 ? 1f : 0f),
            _ => throw new NotSupportedException($"Acoustic mask of element type {type} is not supported; use float, bool or int64."),
        };
    }

    public void Dispose()
    {
        Session.Dispose();
        _runOptions.Dispose();
    }
}

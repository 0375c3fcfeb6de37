using BenchmarkDotNet.Attributes;
using EmotionBatch.Benchmarking;
using EmotionBatch.Core;
using EmotionBatch.Inference;
using EmotionBatch.Inference.Bundles;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmotionBatch.Benchmarks;

/// <summary>
/// One batch of 16 utterances of 1.5-6 s, with transcripts: the C# <see cref="OnnxEmotionModel"/> against bare
/// session runs on the same tensors (the baseline), and the acoustic encoder and fusion head alone.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private OnnxEmotionModel _model = null!;
    private RawEmotionGraphs _raw = null!;
    private PreparedBatch _prepared = null!;
    private EmotionInput[] _inputs = null!;
    private InferenceSession _fusion = null!;
    private OrtValue[] _fusionInputs = null!;
    private string[] _fusionInputNames = null!;
    private string[] _fusionOutputNames = null!;
    private RunOptions _runOptions = null!;

    [Params(1, 16)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var bundle = ModelBundle.Load(BenchPaths.Bundle);
        var options = new ModelOptions { BundlePath = bundle.Directory, IntraOpThreads = Environment.ProcessorCount };
        _model = new OnnxEmotionModel(bundle, options);
        _raw = new RawEmotionGraphs(bundle, options);
        var waves = Enumerable.Range(0, Batch).Select(i => BenchPaths.Waveform(24_000 + i * 4_500, i)).ToArray();
        var texts = Enumerable.Range(0, Batch).Select(i => BenchCorpus.Sentences[i % BenchCorpus.Sentences.Count]).ToArray();
        _inputs = waves.Select((w, i) => new EmotionInput(w, texts[i])).ToArray();
        _prepared = _raw.Prepare(waves.Select(w => (ReadOnlyMemory<float>)w).ToArray(), texts.Select(_model.TextEncoder.Tokenizer.Encode).ToArray());

        // Fusion head alone: acoustic features as the encoder would give for ~6 s (50 frames/s), 12 tokens of text.
        _fusion = new SessionFactory(options).CreateSession(bundle.FusionHeadPath);
        var f = bundle.FusionHead;
        _fusionInputNames = [f.Inputs!.AcousticFeatures, f.Inputs.AcousticMask, f.Inputs.TextFeatures, f.Inputs.TextMask];
        _fusionOutputNames = [f.Outputs!.Logits, f.Outputs.Valence, f.Outputs.Arousal];
        const int frames = 300, tokens = 12;
        var da = bundle.AcousticEncoder.Dim;
        var dt = bundle.TextEncoder.Dim;
        var random = new Random(3);
        var maskType = _fusion.InputMetadata[f.Inputs.AcousticMask].ElementDataType;
        _fusionInputs =
        [
            OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, Batch * frames * da).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(), [Batch, frames, da]),
            maskType == TensorElementType.Bool
                ? OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(true, Batch * frames).ToArray(), [Batch, frames])
                : OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1f, Batch * frames).ToArray(), [Batch, frames]),
            OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, Batch * tokens * dt).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(), [Batch, tokens, dt]),
            OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1f, Batch * tokens).ToArray(), [Batch, tokens]),
        ];
        _runOptions = new RunOptions();
    }

    [Benchmark(Baseline = true, Description = "raw ORT: 3 graphs, pre-built tensors")]
    public double RawOrt() => _raw.Run(_prepared).Total;

    [Benchmark(Description = "C# OnnxEmotionModel.Predict")]
    public int CSharpWrapper() => _model.Predict(_inputs).Count;

    [Benchmark(Description = "acoustic encoder alone")]
    public double AcousticEncoder() => _raw.RunAcoustic(_prepared);

    [Benchmark(Description = "fusion head alone")]
    public int FusionHead()
    {
        using var outputs = _fusion.Run(_runOptions, _fusionInputNames, _fusionInputs, _fusionOutputNames);
        return outputs.Count;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _prepared.Dispose();
        foreach (var value in _fusionInputs)
        {
            value.Dispose();
        }
        _runOptions.Dispose();
        _fusion.Dispose();
        _raw.Dispose();
        _model.Dispose();
    }
}

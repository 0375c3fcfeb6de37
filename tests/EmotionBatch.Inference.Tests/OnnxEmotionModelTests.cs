using System.Text.Json;
using EmotionBatch.Core;
using EmotionBatch.Inference.Bundles;
using EmotionBatch.Testing;

namespace EmotionBatch.Inference.Tests;

[Collection(BundleCollection.Name)]
public sealed class OnnxEmotionModelTests(TestBundles bundles)
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> BundleKinds => ["builtin-text", "file-text"];

    private string PathOf(string kind) => kind == "builtin-text" ? bundles.BuiltinText : bundles.FileText;

    [Theory]
    [MemberData(nameof(BundleKinds))]
    public async Task Predictions_are_finite_distributions_labelled_by_argmax(string kind)
    {
        using var model = OnnxEmotionModel.Load(PathOf(kind));
        var predictions = await model.PredictAsync([Input(16_000, 1, "i am so happy today"), Input(9_000, 2, null)], CancellationToken.None);

        Assert.Equal(2, predictions.Count);
        foreach (var p in predictions)
        {
            float[] probabilities = [p.ProbabilityAngry, p.ProbabilityHappy, p.ProbabilitySad, p.ProbabilityNeutral];
            Assert.All(probabilities, x => Assert.True(float.IsFinite(x) && x >= 0 && x <= 1));
            Assert.Equal(1f, probabilities.Sum(), 1e-5f);
            Assert.Equal(EmotionLabels.All[Array.IndexOf(probabilities, probabilities.Max())], p.Label);
            Assert.True(float.IsFinite(p.Valence) && float.IsFinite(p.Arousal));
        }
    }

    [Theory]
    [MemberData(nameof(BundleKinds))]
    public void Text_masked_and_text_present_both_work_and_differ(string kind)
    {
        using var model = OnnxEmotionModel.Load(PathOf(kind));
        var masked = model.Predict([Input(12_000, 3, null)]).Single();
        var blank = model.Predict([Input(12_000, 3, "   ")]).Single();
        var text = model.Predict([Input(12_000, 3, "hello world")]).Single();

        Assert.Equal(masked, blank);
        Assert.NotEqual(masked.ProbabilityAngry, text.ProbabilityAngry);
    }

    [Fact]
    public void Profiling_writes_one_profile_per_session_named_after_its_graph()
    {
        using var temp = RepoPaths.NewTempFolder("profile");
        var prefix = Path.Combine(temp.Path, "run");
        using (var model = OnnxEmotionModel.Load(bundles.FileText, new ModelOptions { BundlePath = bundles.FileText, ProfilePrefix = prefix }))
        {
            model.Predict([Input(12_000, 3, "hello world")]);
        }

        // The bundle's three sessions start within the same second, which is all ONNX Runtime's own file names tell
        // apart: each must still get a file of its own, holding its own graph's nodes.
        var files = Directory.GetFiles(temp.Path, "run_*.json").Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(3, files.Length);
        Assert.Single(files, f => f!.StartsWith("run_acoustic_encoder_", StringComparison.Ordinal));
        Assert.Single(files, f => f!.StartsWith("run_fusion_head_", StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(temp.Path, "run_*.json"))
        {
            using var trace = JsonDocument.Parse(File.ReadAllText(file));
            Assert.Contains(trace.RootElement.EnumerateArray(), e => e.TryGetProperty("cat", out var cat) && cat.GetString() == "Node");
        }
    }

    [Fact]
    public void Silence_and_empty_audio_with_no_text_are_finite()
    {
        using var model = OnnxEmotionModel.Load(bundles.BuiltinText);
        var predictions = model.Predict([new EmotionInput(ReadOnlyMemory<float>.Empty, null), new EmotionInput(new float[100], null)]);
        Assert.All(predictions, p => Assert.True(float.IsFinite(p.ProbabilityHappy) && float.IsFinite(p.Valence)));
    }

    [Theory]
    [MemberData(nameof(BundleKinds))]
    public void Mixed_length_batch_matches_one_at_a_time(string kind)
    {
        using var model = OnnxEmotionModel.Load(PathOf(kind));
        EmotionInput[] inputs =
        [
            Input(16_000, 10, "hello world"),
            Input(3_200, 11, null),
            Input(70_000, 12, "i am very sad, not happy today"),   // longer than max_audio_seconds: centre cut
            Input(250, 13, "angry"),                               // shorter than one frame
            Input(41_234, 14, ""),
            Input(8_000, 15, "we was happy it is the world"),
        ];
        var batched = model.Predict(inputs);
        for (var i = 0; i < inputs.Length; i++)
        {
            var alone = model.Predict([inputs[i]]).Single();
            AssertClose(alone, batched[i], $"input {i}");
        }
    }

    [Fact]
    public void Long_utterances_are_cut_to_their_centre()
    {
        using var model = OnnxEmotionModel.Load(bundles.BuiltinText);
        var samples = Noise(6 * 16_000, 21);
        var centre = samples.AsMemory(16_000, 4 * 16_000);
        var whole = model.Predict([new EmotionInput(samples, "hello")]).Single();
        var cut = model.Predict([new EmotionInput(centre, "hello")]).Single();
        AssertClose(cut, whole, "centre cut");
    }

    /// <summary>Every bundle with parity.json: the generated test bundles, and models/ of the repository once exported.</summary>
    [Fact]
    public void Parity_cases_match_pytorch()
    {
        var checkedBundles = new List<string>();
        foreach (var bundle in ParityBundles())
        {
            using var model = OnnxEmotionModel.Load(bundle);
            using var parity = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(bundle, "parity.json")));
            var cases = parity.RootElement.GetProperty("cases").EnumerateArray().ToArray();
            Assert.NotEmpty(cases);
            for (var c = 0; c < cases.Length; c++)
            {
                var waveform = cases[c].GetProperty("waveform").EnumerateArray().Select(x => x.GetSingle()).ToArray();
                var textElement = cases[c].GetProperty("text_features");
                float[]? text = textElement.ValueKind == JsonValueKind.Null
                    ? null
                    : textElement.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(x => x.GetSingle())).ToArray();
                var actual = model.RunWithTextFeatures([waveform], [text]).Single();
                var expected = cases[c].GetProperty("expected");
                var logits = expected.GetProperty("logits").EnumerateArray().Select(x => x.GetSingle()).ToArray();
                for (var k = 0; k < logits.Length; k++)
                {
                    Assert.True(Math.Abs(logits[k] - actual.Logits[k]) < Tolerance, $"{bundle} case {c} logit {k}: expected {logits[k]}, got {actual.Logits[k]}");
                }
                Assert.True(Math.Abs(expected.GetProperty("valence").GetSingle() - actual.Valence) < Tolerance, $"{bundle} case {c} valence");
                Assert.True(Math.Abs(expected.GetProperty("arousal").GetSingle() - actual.Arousal) < Tolerance, $"{bundle} case {c} arousal");
            }
            checkedBundles.Add(bundle);
        }
        Assert.Contains(bundles.BuiltinText, checkedBundles);
        Assert.Contains(bundles.FileText, checkedBundles);
    }

    [Fact]
    public void Cpu_is_chosen_when_cuda_is_unavailable_and_cuda_required_fails()
    {
        using var model = OnnxEmotionModel.Load(bundles.BuiltinText, new ModelOptions { ExecutionProvider = ExecutionProviderKind.Auto });
        if (model.ExecutionProvider == ExecutionProviderKind.Cuda)
        {
            return; // a GPU build with a device: nothing to prove here
        }
        var e = Assert.Throws<InvalidOperationException>(() =>
            OnnxEmotionModel.Load(bundles.BuiltinText, new ModelOptions { ExecutionProvider = ExecutionProviderKind.Cuda }));
        Assert.Contains("CUDA", e.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", e.Message);
    }

    [Fact]
    public void File_text_encoder_tokenizes_with_the_bundle_vocabulary()
    {
        using var model = OnnxEmotionModel.Load(bundles.FileText);
        Assert.Equal([2, 15, 16, 3], model.TextEncoder.Tokenizer.Encode("Hello World"));
        Assert.Equal(16, model.TextEncoder.Tokenizer.Encode(string.Join(' ', Enumerable.Repeat("happy", 40))).Length);
    }

    [Fact]
    public void Batching_by_length_groups_similar_lengths()
    {
        EmotionInput[] inputs = [Input(900, 1, null), Input(100, 2, null), Input(500, 3, null), Input(300, 4, null), Input(700, 5, null)];
        var batches = LengthBatching.Batches(inputs.Select(i => i.Samples.Length).ToArray(), 2);
        Assert.Equal([[1, 3], [2, 4], [0]], batches);
    }

    private IEnumerable<string> ParityBundles()
    {
        yield return bundles.BuiltinText;
        yield return bundles.FileText;
        var models = Path.Combine(RepoPaths.Root, "models");
        if (Directory.Exists(models))
        {
            foreach (var dir in Directory.GetDirectories(models).Where(d => File.Exists(Path.Combine(d, "parity.json"))))
            {
                yield return dir;
            }
        }
    }

    private static void AssertClose(EmotionPrediction expected, EmotionPrediction actual, string what)
    {
        float[] e = [expected.ProbabilityAngry, expected.ProbabilityHappy, expected.ProbabilitySad, expected.ProbabilityNeutral, expected.Valence, expected.Arousal];
        float[] a = [actual.ProbabilityAngry, actual.ProbabilityHappy, actual.ProbabilitySad, actual.ProbabilityNeutral, actual.Valence, actual.Arousal];
        for (var i = 0; i < e.Length; i++)
        {
            Assert.True(Math.Abs(e[i] - a[i]) < Tolerance, $"{what}, output {i}: expected {e[i]}, got {a[i]}");
        }
    }

    internal static EmotionInput Input(int samples, int seed, string? transcript) => new(Noise(samples, seed), transcript);

    internal static float[] Noise(int samples, int seed)
    {
        var random = new Random(seed);
        var result = new float[samples];
        for (var i = 0; i < samples; i++)
        {
            result[i] = (float)(random.NextDouble() * 0.6 - 0.3);
        }
        return result;
    }

    [Fact]
    public void Windows_are_sorted_one_at_a_time_and_keep_their_indices()
    {
        int[] lengths = [900, 100, 500, 300, 700, 200];

        Assert.Equal([[1, 3], [2, 0], [5, 4]], LengthBatching.Windowed(lengths, batchSize: 2, windowSize: 4));
        Assert.Equal(64, LengthBatching.WindowSize(16));
        Assert.Equal(64, LengthBatching.WindowSize(32));
        Assert.Equal(100, LengthBatching.WindowSize(100));
        Assert.Equal(4, LengthBatching.WindowSize(1));
    }
}

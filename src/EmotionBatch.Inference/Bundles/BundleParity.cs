using System.Globalization;
using System.Text.Json;
using EmotionBatch.Core;

namespace EmotionBatch.Inference.Bundles;

/// <summary>
/// Runs a bundle's parity.json (docs/model-bundle.md) through the worker's own inference code and lists where it
/// disagrees with the outputs the export step computed in PyTorch. A case gives its text either as token features
/// (<c>text_features</c>: the head alone is checked against them) or as a string (<c>text</c>: the tokenizer and text
/// encoder run too, so the whole chain is checked), or neither (text masked).
/// </summary>
public static class BundleParity
{
    public const float DefaultTolerance = 1e-4f;

    /// <returns>One line per output outside the tolerance; empty when the bundle reproduces every case.</returns>
    public static IReadOnlyList<string> Check(OnnxEmotionModel model, float tolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(model);
        var path = model.LoadedBundle.ParityPath;
        if (!File.Exists(path))
        {
            return [$"{path} does not exist: the bundle carries no parity cases."];
        }
        using var parity = JsonDocument.Parse(File.ReadAllBytes(path));
        var cases = parity.RootElement.GetProperty("cases").EnumerateArray().ToArray();
        if (cases.Length == 0)
        {
            return [$"{path} has no cases."];
        }
        var problems = new List<string>();
        for (var c = 0; c < cases.Length; c++)
        {
            var waveform = cases[c].GetProperty("waveform").EnumerateArray().Select(x => x.GetSingle()).ToArray();
            var actual = cases[c].TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String
                ? model.Run([new EmotionInput(waveform, text.GetString())]).Single()
                : model.RunWithTextFeatures([waveform], [TextFeatures(cases[c])]).Single();
            var expected = cases[c].GetProperty("expected");
            var logits = expected.GetProperty("logits").EnumerateArray().Select(x => x.GetSingle()).ToArray();
            if (logits.Length != actual.Logits.Length)
            {
                problems.Add($"case {c}: {logits.Length} expected logits, the model gives {actual.Logits.Length}");
                continue;
            }
            for (var k = 0; k < logits.Length; k++)
            {
                Compare(problems, c, $"logit {k}", logits[k], actual.Logits[k], tolerance);
            }
            Compare(problems, c, "valence", expected.GetProperty("valence").GetSingle(), actual.Valence, tolerance);
            Compare(problems, c, "arousal", expected.GetProperty("arousal").GetSingle(), actual.Arousal, tolerance);
        }
        return problems;
    }

    private static float[]? TextFeatures(JsonElement parityCase) =>
        parityCase.TryGetProperty("text_features", out var features) && features.ValueKind != JsonValueKind.Null
            ? features.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(x => x.GetSingle())).ToArray()
            : null;

    private static void Compare(List<string> problems, int parityCase, string what, float expected, float actual, float tolerance)
    {
        if (!(Math.Abs(expected - actual) <= tolerance))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"case {parityCase} {what}: expected {expected}, got {actual}"));
        }
    }
}

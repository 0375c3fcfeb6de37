using System.CommandLine;
using EmotionBatch.Inference;
using EmotionBatch.Inference.Bundles;

namespace EmotionBatch.Worker.Cli;

/// <summary>
/// <c>verify-bundle</c>: loads a bundle as the worker would (manifest, graphs, tokenizer) and reproduces its
/// parity.json cases with the worker's inference code; exit 0 when every output is within the tolerance, 1 when some
/// output is not, 2 when the bundle does not load or its parity file is unreadable.
/// Run it on every bundle before deploying it, above all on one assembled from an operator's own encoders.
/// </summary>
public static class VerifyBundleCommand
{
    public const int ExitMismatch = 1;
    public const int ExitUnusable = 2;

    public static Command Create()
    {
        var bundle = new Option<string>("--bundle") { Description = "Bundle folder to verify.", Required = true };
        var tolerance = new Option<float>("--tolerance") { Description = "Largest absolute difference allowed per output.", DefaultValueFactory = _ => BundleParity.DefaultTolerance };
        var command = new Command("verify-bundle", "Check that a model bundle loads and reproduces its parity.json outputs.");
        command.Options.Add(bundle);
        command.Options.Add(tolerance);
        command.SetAction(parse =>
        {
            var path = parse.GetRequiredValue(bundle);
            IReadOnlyList<string> problems;
            OnnxEmotionModel model;
            try
            {
                model = OnnxEmotionModel.Load(path);
            }
            catch (Exception e) when (e is ModelBundleException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or NotSupportedException or IOException)
            {
                Console.Error.WriteLine($"verify-bundle: the bundle does not load: {e.Message}");
                return ExitUnusable;
            }
            using (model)
            {
                try
                {
                    problems = BundleParity.Check(model, parse.GetValue(tolerance));
                }
                catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    Console.Error.WriteLine($"verify-bundle: {model.LoadedBundle.ParityPath} is not a valid parity file: {e.Message}");
                    return ExitUnusable;
                }
            }
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"verify-bundle: {problem}");
            }
            Console.WriteLine(problems.Count == 0
                ? $"verify-bundle: the bundle at {Path.GetFullPath(path)} reproduces its parity cases"
                : $"verify-bundle: {problems.Count} outputs differ");
            return problems.Count == 0 ? 0 : ExitMismatch;
        });
        return command;
    }
}

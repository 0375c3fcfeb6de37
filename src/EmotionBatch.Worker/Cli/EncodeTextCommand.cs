using System.CommandLine;
using EmotionBatch.Inference;
using EmotionBatch.Inference.Text;

namespace EmotionBatch.Worker.Cli;

/// <summary>
/// <c>encode-text</c>: caches text-encoder token features for training, computed by the same tokenizer and ONNX graph
/// the worker uses at inference, so the fusion head trains on exactly what it will see.
/// </summary>
public static class EncodeTextCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "TSV file: id<TAB>text per line.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Folder for features.f16 (or .f32), index.tsv and meta.json.", Required = true };
        var bundle = new Option<string?>("--bundle") { Description = "Use this bundle's text encoder instead of the built-in all-MiniLM-L6-v2." };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per text including [CLS] and [SEP].", DefaultValueFactory = _ => 128 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads; 0 = one per CPU.", DefaultValueFactory = _ => 0 };
        var float32 = new Option<bool>("--float32") { Description = "Write full-precision features.f32 instead of float16 (for a bundle's parity cases)." };

        var command = new Command("encode-text", "Export per-token text-encoder features for training.");
        command.Options.Add(input);
        command.Options.Add(output);
        command.Options.Add(bundle);
        command.Options.Add(maxLength);
        command.Options.Add(threads);
        command.Options.Add(float32);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await TextFeatureExtractor.ExportTextFeaturesAsync(
                parse.GetRequiredValue(input),
                parse.GetRequiredValue(output),
                new TextFeatureExportOptions
                {
                    BundlePath = parse.GetValue(bundle),
                    MaxLength = parse.GetValue(maxLength),
                    FullPrecision = parse.GetValue(float32),
                    Model = new ModelOptions { IntraOpThreads = parse.GetValue(threads) },
                },
                logger: null,
                cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}

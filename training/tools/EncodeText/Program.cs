// Usage: dotnet run --project training/tools/EncodeText -- <input.tsv> <output folder>
// input.tsv: id<TAB>text per line (training writes training/cache/text/input.tsv).
using EmotionBatch.Inference.Text;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: EncodeText <input.tsv> <output folder>");
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
await TextFeatureExtractor.ExportTextFeaturesAsync(
    inputTsv: args[0],
    outputFolder: args[1],
    options: new TextFeatureExportOptions { MaxLength = 128, BatchSize = 32 },
    logger: null,
    cancellationToken: cts.Token);
Console.WriteLine($"text features written to {args[1]}");
return 0;

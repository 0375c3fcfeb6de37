using System.Diagnostics;
using System.Text.Json;
using EmotionBatch.Inference.Text;
using EmotionBatch.Testing;

namespace EmotionBatch.Inference.Tests;

/// <summary>
/// The worker's SentencePiece tokenizer (Microsoft.ML.Tokenizers) against Python's sentencepiece, which text encoders
/// are trained and exported with, on a unigram model like DeBERTaV3's spm.model (pad 0, [CLS] 1, [SEP] 2, unk 3),
/// trained here on the repository's own docs. Ids must be equal, except where two segmentations are exactly equally
/// likely: the two libraries break such ties differently (e.g. "000" as "0"+"00" or "00"+"0"), which
/// docs/model-bundle.md lists as a known difference. BPE SentencePiece models are not supported (same page).
/// </summary>
public sealed class SentencePieceParityTests : IDisposable
{
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("spm");

    public void Dispose() => _temp.Dispose();

    /// <summary>Strings where normalisation and whitespace handling can differ between implementations.</summary>
    private static readonly string[] Tricky =
    [
        "The customer was angry about the refund.",
        "ﬁne ＡＢＣ ① ｶﾀｶﾅ",
        "tab\tseparated\tvalues",
        "runs   of    spaces",
        "  leading and trailing  ",
        "line one\nline two",
        "café naïve Über façade",
        "I'm SO happy!!! :-) 😀",
        "numbers 3.14159 and 1,000,000",
        "x",
    ];

    [Fact]
    public async Task Unigram_token_ids_equal_python_sentencepiece_including_truncation_up_to_exact_ties()
    {
        const string modelType = "unigram";
        var model = _temp.File($"spm-{modelType}.model");
        var (expected, scores) = await PythonAsync(model, modelType);

        using var stream = File.OpenRead(model);
        var tokenizer = TextTokenizer.CreateSentencePiece(stream, lowercase: false, maxLength: 512);
        stream.Position = 0;
        var truncating = TextTokenizer.CreateSentencePiece(stream, lowercase: false, maxLength: 8);
        var mismatches = new List<string>();
        for (var i = 0; i < Tricky.Length; i++)
        {
            var python = expected[i];
            var ids = tokenizer.Encode(Tricky[i]);
            Assert.True(ids[0] == 1 && ids[^1] == 2, $"'{Tricky[i]}': [CLS]/[SEP] ids are {ids[0]}/{ids[^1]}");
            // Truncation keeps the first tokens, leaving room for [CLS] and [SEP], as Hugging Face does.
            var body = ids[1..^1];
            if (python.AsSpan().SequenceEqual(body))
            {
                Assert.Equal(python.Take(6), truncating.Encode(Tricky[i])[1..^1]);
                continue;
            }
            // A tie: the same pieces' text, and the same total score, split at another place.
            var sameText = Pieces(scores, python) == Pieces(scores, body);
            var sameScore = Math.Abs(python.Sum(id => scores[id].Score) - body.Sum(id => scores[id].Score)) < 1e-4;
            if (!(sameText && sameScore && python.Length == body.Length))
            {
                mismatches.Add($"'{Tricky[i]}': C# [{string.Join(", ", body)}] vs Python [{string.Join(", ", python)}]");
            }
        }
        Assert.True(mismatches.Count == 0, $"{modelType}:\n" + string.Join("\n", mismatches));
    }

    private sealed record Piece(string Text, double Score);

    private static string Pieces(Dictionary<int, Piece> pieces, IEnumerable<int> ids) => string.Concat(ids.Select(id => pieces[id].Text));

    private sealed record PythonResult(int[][] Ids, Dictionary<int, Piece> Pieces);

    /// <summary>Trains the model; returns Python's ids of every tricky string, in order, and every piece's text and score.</summary>
    private async Task<(int[][] Ids, Dictionary<int, Piece> Pieces)> PythonAsync(string model, string modelType)
    {
        var corpus = _temp.File("corpus.txt");
        var text = string.Join('\n', Directory.GetFiles(Path.Combine(RepoPaths.Root, "docs"), "*.md").Order(StringComparer.Ordinal).Select(File.ReadAllText));
        await File.WriteAllTextAsync(corpus, text);
        var script = """
            import json, sys
            import sentencepiece as spm
            corpus, prefix, model_type, strings = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
            spm.SentencePieceTrainer.train(input=corpus, model_prefix=prefix, vocab_size=800, model_type=model_type,
                character_coverage=1.0, pad_id=0, bos_id=1, eos_id=2, unk_id=3, bos_piece="[CLS]", eos_piece="[SEP]",
                pad_piece="[PAD]", unk_piece="[UNK]", minloglevel=2)
            sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
            pieces = {i: {"Text": sp.id_to_piece(i), "Score": sp.get_score(i)} for i in range(sp.get_piece_size())}
            print(json.dumps({"Ids": [sp.encode(s) for s in strings], "Pieces": pieces}))
            """;
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", script, corpus, model[..^".model".Length], modelType, JsonSerializer.Serialize(Tricky) })
        {
            start.ArgumentList.Add(argument);
        }
        using var python = Process.Start(start)!;
        var errors = python.StandardError.ReadToEndAsync();
        var output = await python.StandardOutput.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, "python3-sentencepiece (scripts/setup.sh installs it): " + await errors);
        var result = JsonSerializer.Deserialize<PythonResult>(output)!;
        return (result.Ids, result.Pieces);
    }
}

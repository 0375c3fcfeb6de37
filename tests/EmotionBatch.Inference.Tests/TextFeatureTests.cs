using System.Buffers.Binary;
using System.Text.Json;
using EmotionBatch.Inference.Text;
using EmotionBatch.Testing;

namespace EmotionBatch.Inference.Tests;

/// <summary>One MiniLM session for the class: creating it costs about a second.</summary>
public sealed class MiniLmFixture : IDisposable
{
    public TextFeatureExtractor Extractor { get; } = TextFeatureExtractor.CreateBuiltin(batchSize: 4);

    public void Dispose() => Extractor.Dispose();
}

public sealed class TextFeatureTests(MiniLmFixture miniLm) : IClassFixture<MiniLmFixture>
{
    [Fact]
    public void Tokenizer_gives_bert_uncased_ids_with_cls_and_sep()
    {
        var tokenizer = BuiltinTextEncoders.CreateTokenizer(BuiltinTextEncoders.MiniLmL6V2);
        Assert.Equal([101, 7592, 2088, 102], tokenizer.Encode("Hello World"));
    }

    [Fact]
    public void Tokenizer_truncates_to_max_length_keeping_sep()
    {
        var tokenizer = BuiltinTextEncoders.CreateTokenizer(BuiltinTextEncoders.MiniLmL6V2, maxLength: 5);
        var ids = tokenizer.Encode("one two three four five six seven");
        Assert.Equal(5, ids.Length);
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
    }

    [Fact]
    public void MiniLm_features_are_deterministic_and_L_by_384()
    {
        var first = miniLm.Extractor.Extract(["hello world"]).Single();
        var second = miniLm.Extractor.Extract(["hello world"]).Single();
        Assert.Equal(4, first.Length);
        Assert.Equal(384, first.Dim);
        Assert.Equal(4 * 384, first.Features.Length);
        Assert.Equal(first.Features, second.Features);
        Assert.All(first.Features, f => Assert.True(float.IsFinite(f)));
    }

    [Fact]
    public void Batched_features_match_single_text_features()
    {
        string[] texts = ["a much longer sentence, with several more tokens than the others in this batch", "hi", "", "hello world"];
        var batched = miniLm.Extractor.Extract(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            var alone = miniLm.Extractor.Extract([texts[i]]).Single();
            Assert.Equal(alone.Length, batched[i].Length);
            for (var j = 0; j < alone.Features.Length; j++)
            {
                Assert.True(Math.Abs(alone.Features[j] - batched[i].Features[j]) < 1e-4, $"text {i}, value {j}");
            }
        }
        Assert.Equal(0, batched[2].Length);
    }

    [Fact]
    public async Task Export_writes_files_numpy_can_read()
    {
        using var temp = RepoPaths.NewTempFolder("text-features");
        var input = temp.File("texts.tsv");
        await File.WriteAllTextAsync(input, "id\ttext\nu1\thello world\nu2\t\nu3\tI am so happy today!\tstill text\n");
        var output = Path.Combine(temp.Path, "out");

        await TextFeatureExtractor.ExportTextFeaturesAsync(input, output, new TextFeatureExportOptions { BatchSize = 2 });

        var index = (await File.ReadAllLinesAsync(Path.Combine(output, TextFeatureExtractor.IndexFile)))
            .Skip(1).Select(l => l.Split('\t')).ToArray();
        Assert.Equal(["u1", "u2", "u3"], index.Select(r => r[0]));
        var offsets = index.Select(r => long.Parse(r[1])).ToArray();
        var lengths = index.Select(r => int.Parse(r[2])).ToArray();
        Assert.Equal(4, lengths[0]);
        Assert.Equal(0, lengths[1]);
        Assert.Equal([0L, 4L, 4L], offsets);
        var total = lengths.Sum();

        using var meta = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, TextFeatureExtractor.MetaFile)));
        Assert.Equal(384, meta.RootElement.GetProperty("dim").GetInt32());
        Assert.Equal("float16", meta.RootElement.GetProperty("dtype").GetString());
        Assert.Equal(total, meta.RootElement.GetProperty("total_tokens").GetInt64());
        Assert.Equal(128, meta.RootElement.GetProperty("max_length").GetInt32());

        var bytes = await File.ReadAllBytesAsync(Path.Combine(output, TextFeatureExtractor.FeaturesFile));
        Assert.Equal(total * 384 * 2, bytes.Length);

        // The third text's tokens, read back as numpy would, equal the extractor's features to float16 precision.
        var expected = miniLm.Extractor.Extract(["I am so happy today!\tstill text"]).Single();
        Assert.Equal(lengths[2], expected.Length);
        for (var j = 0; j < expected.Features.Length; j++)
        {
            var stored = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan((int)(offsets[2] * 384 + j) * 2));
            Assert.True(Math.Abs(stored - expected.Features[j]) <= 2e-3f * Math.Max(1, Math.Abs(expected.Features[j])), $"value {j}");
        }
    }
}

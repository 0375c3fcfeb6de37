using System.Text.Json.Nodes;
using EmotionBatch.Inference.Bundles;
using EmotionBatch.Testing;

namespace EmotionBatch.Inference.Tests;

[Trait("Category", "Fast")]
[Collection(BundleCollection.Name)]
public sealed class ModelBundleTests(TestBundles bundles)
{
    [Fact]
    public void Valid_bundles_load()
    {
        var builtin = ModelBundle.Load(bundles.BuiltinText);
        Assert.False(builtin.Info.Trained);
        Assert.Equal(BuiltinTextEncoders.MiniLmL6V2, builtin.TextEncoder.Builtin);
        Assert.Equal(64_000, builtin.MaxAudioSamples);
        var file = ModelBundle.Load(bundles.FileText);
        Assert.EndsWith("vocab.txt", file.TokenizerPath);
    }

    [Fact]
    public void Missing_directory_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-bundle-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<ModelBundleException>(() => ModelBundle.Load(missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    public static TheoryData<string, string, string> BrokenManifests => new()
    {
        // JSON path to change, new value (JSON), field the error must name
        { "labels", """["happy","angry","sad","neutral"]""", "labels" },
        { "labels", "null", "labels" },
        { "acoustic_encoder.file", "\"missing.onnx\"", "acoustic_encoder.file" },
        { "acoustic_encoder.file", "\"../outside.onnx\"", "acoustic_encoder.file" },
        { "acoustic_encoder.dim", "0", "acoustic_encoder.dim" },
        { "fusion_head.file", "null", "fusion_head.file" },
        { "text_encoder.builtin", "\"no-such-encoder\"", "text_encoder.builtin" },
        { "text_encoder.dim", "768", "text_encoder.dim" },
        { "text_encoder.tokenizer.max_length", "1", "text_encoder.tokenizer.max_length" },
        { "sample_rate", "8000", "sample_rate" },
        { "max_audio_seconds", "0", "max_audio_seconds" },
        { "name", "\"\"", "name" },
        { "format_version", "2", "format_version" },
    };

    [Theory]
    [MemberData(nameof(BrokenManifests))]
    public void Invalid_manifest_errors_name_file_and_field(string path, string value, string field)
    {
        using var copy = CopyBundle(bundles.BuiltinText);
        EditManifest(copy.Path, path, JsonNode.Parse(value));
        var e = Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy.Path));
        Assert.Equal(field, e.Field);
        Assert.Equal(Path.Combine(copy.Path, "manifest.json"), e.File);
        Assert.Contains(field, e.Message);
        Assert.Contains("manifest.json", e.Message);
    }

    [Fact]
    public void File_text_encoder_needs_its_tokenizer_file()
    {
        using var copy = CopyBundle(bundles.FileText);
        File.Delete(Path.Combine(copy.Path, "vocab.txt"));
        var e = Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy.Path));
        Assert.Equal("text_encoder.tokenizer.file", e.Field);
        Assert.Contains("vocab.txt", e.Message);
    }

    [Fact]
    public void A_text_encoder_loads_alone_from_a_bundle_that_names_nothing_else_but_the_whole_bundle_does_not()
    {
        using var copy = CopyBundle(bundles.FileText);
        foreach (var part in new[] { "acoustic_encoder", "fusion_head", "labels" })
        {
            EditManifest(copy.Path, part, null);
        }
        var text = ModelBundle.LoadTextEncoder(copy.Path);
        Assert.EndsWith("vocab.txt", text.TokenizerPath);
        Assert.StartsWith(copy.Path, text.Path);
        Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy.Path));
        Assert.Throws<ModelBundleException>(() => ModelBundle.LoadAcousticEncoder(copy.Path));
    }

    [Fact]
    public void Malformed_json_is_reported_with_the_file()
    {
        using var copy = CopyBundle(bundles.BuiltinText);
        File.WriteAllText(Path.Combine(copy.Path, "manifest.json"), "{ \"labels\": [1, ");
        var e = Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy.Path));
        Assert.Contains("manifest.json", e.Message);
        Assert.Contains("not valid manifest JSON", e.Message);
    }

    internal static TempFolder CopyBundle(string source)
    {
        var copy = RepoPaths.NewTempFolder("bundle-copy");
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(copy.Path, Path.GetFileName(file)));
        }
        return copy;
    }

    internal static void EditManifest(string bundle, string path, JsonNode? value)
    {
        var manifestPath = Path.Combine(bundle, "manifest.json");
        var root = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        var parts = path.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            node = node[part]!;
        }
        node[parts[^1]] = value;
        File.WriteAllText(manifestPath, root.ToJsonString());
    }
}

using System.Xml.Linq;
using EmotionBatch.Testing;

namespace EmotionBatch.Deploy.Tests;

/// <summary>
/// Dependencies point down: Core at the bottom, the dataset contract and the stages above it, storage and reports
/// above those, the worker (the host) on top, and the bench as a tool above the worker. Read from the project files.
/// </summary>
[Trait("Category", "Fast")]
public sealed class ArchitectureTests
{
    /// <summary>The layer of each product project; a project may reference only projects of a lower layer.</summary>
    private static readonly Dictionary<string, int> Layers = new(StringComparer.Ordinal)
    {
        ["EmotionBatch.Core"] = 0,
        ["EmotionBatch.Datasets"] = 1,
        ["EmotionBatch.Audio"] = 1,
        ["EmotionBatch.Transcription"] = 1,
        ["EmotionBatch.Inference"] = 1,
        ["EmotionBatch.Storage"] = 2,
        ["EmotionBatch.Reports"] = 2,
        ["EmotionBatch.Worker"] = 3,
        ["EmotionBatch.Benchmarking"] = 4,
    };

    private static List<string> References(string project) =>
        XDocument.Load(Path.Combine(RepoPaths.Root, "src", project, project + ".csproj"))
            .Descendants("ProjectReference")
            .Select(reference => Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value.Replace('\\', '/')))
            .ToList();

    [Fact]
    public void Every_project_under_src_has_a_layer()
    {
        var projects = Directory.GetDirectories(Path.Combine(RepoPaths.Root, "src")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(Layers.Keys.Order(StringComparer.Ordinal), projects);
    }

    [Fact]
    public void Projects_reference_only_lower_layers()
    {
        var upward = Layers.Keys
            .SelectMany(project => References(project).Select(reference => (project, reference)))
            .Where(pair => Layers[pair.reference] >= Layers[pair.project])
            .Select(pair => $"{pair.project} -> {pair.reference}")
            .ToList();
        Assert.Empty(upward);
    }

    [Fact]
    public void Core_depends_on_nothing_and_storage_writes_through_the_dataset_contract()
    {
        var core = XDocument.Load(Path.Combine(RepoPaths.Root, "src", "EmotionBatch.Core", "EmotionBatch.Core.csproj"));
        Assert.Empty(core.Descendants("PackageReference"));
        Assert.Empty(core.Descendants("ProjectReference"));
        Assert.Contains("EmotionBatch.Datasets", References("EmotionBatch.Storage"));
        Assert.DoesNotContain("EmotionBatch.Reports", References("EmotionBatch.Storage"));
        Assert.DoesNotContain("EmotionBatch.Benchmarking", References("EmotionBatch.Worker"));
    }
}

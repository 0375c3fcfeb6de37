using EmotionBatch.Testing;
using YamlDotNet.RepresentationModel;

namespace EmotionBatch.Deploy.Tests;

/// <summary>Every YAML document under deploy/, parsed once, with helpers to walk them without a schema.</summary>
internal static class Manifests
{
    public sealed record Document(string File, YamlMappingNode Root)
    {
        public string? Kind => Root.Str("kind");
        public string? Name => (Root.Child("metadata") as YamlMappingNode)?.Str("name");
        public override string ToString() => $"{Path.GetRelativePath(RepoPaths.Root, File)}: {Kind}/{Name}";
    }

    public static string DeployFolder => Path.Combine(RepoPaths.Root, "deploy");

    public static IReadOnlyList<string> YamlFiles() =>
        Directory.EnumerateFiles(DeployFolder, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static readonly Lazy<IReadOnlyList<Document>> AllLazy = new(() =>
    {
        var documents = new List<Document>();
        foreach (var file in YamlFiles())
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            foreach (var doc in stream.Documents)
            {
                if (doc.RootNode is YamlMappingNode map)
                {
                    documents.Add(new Document(file, map));
                }
            }
        }
        return documents;
    });

    public static IReadOnlyList<Document> All => AllLazy.Value;

    public static IEnumerable<Document> Resources => All.Where(d => d.Kind != "Kustomization");

    public static YamlNode? Child(this YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static string? Str(this YamlNode? node, string key) => (node.Child(key) as YamlScalarNode)?.Value;

    public static YamlNode? At(this YamlNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node.Child(key);
        }
        return node;
    }

    public static IEnumerable<YamlNode> Items(this YamlNode? node) =>
        node is YamlSequenceNode seq ? seq.Children : [];

    /// <summary>The pod spec of a workload, whatever its kind.</summary>
    public static YamlMappingNode? PodSpec(this Document doc) => doc.Kind switch
    {
        "Deployment" or "StatefulSet" or "DaemonSet" or "Job" => doc.Root.At("spec", "template", "spec") as YamlMappingNode,
        "CronJob" => doc.Root.At("spec", "jobTemplate", "spec", "template", "spec") as YamlMappingNode,
        _ => null,
    };

    public static IEnumerable<YamlMappingNode> Containers(this YamlMappingNode podSpec) =>
        podSpec.Child("containers").Items().Concat(podSpec.Child("initContainers").Items()).OfType<YamlMappingNode>();

    /// <summary>Every scalar in a tree with its path, for scans such as "no secret anywhere".</summary>
    public static IEnumerable<(string Path, string Value)> Scalars(YamlNode node, string path = "")
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                yield return (path, scalar.Value ?? "");
                break;
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    foreach (var item in Scalars(value, $"{path}/{(key as YamlScalarNode)?.Value}"))
                    {
                        yield return item;
                    }
                }
                break;
            case YamlSequenceNode seq:
                var i = 0;
                foreach (var value in seq.Children)
                {
                    foreach (var item in Scalars(value, $"{path}[{i++}]"))
                    {
                        yield return item;
                    }
                }
                break;
        }
    }
}

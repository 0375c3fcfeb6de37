using System.Text.RegularExpressions;
using EmotionBatch.Testing;
using YamlDotNet.RepresentationModel;

namespace EmotionBatch.Deploy.Tests;

[Trait("Category", "Fast")]
public sealed partial class KubernetesManifestTests
{
    [Fact]
    public void Every_yaml_file_parses_and_every_resource_is_named()
    {
        Assert.NotEmpty(Manifests.YamlFiles());
        Assert.Contains(Manifests.All, d => d.Kind == "Kustomization");
        foreach (var doc in Manifests.Resources)
        {
            Assert.False(string.IsNullOrWhiteSpace(doc.Root.Str("apiVersion")), $"{doc}: apiVersion");
            Assert.False(string.IsNullOrWhiteSpace(doc.Kind), $"{doc}: kind");
            Assert.False(string.IsNullOrWhiteSpace(doc.Name), $"{doc}: metadata.name");
            Assert.Matches(DnsLabel(), doc.Name!);
        }
    }

    [Fact]
    public void Kustomizations_reference_files_that_exist_and_patch_resources_that_exist()
    {
        foreach (var kustomization in Manifests.All.Where(d => d.Kind == "Kustomization"))
        {
            var folder = Path.GetDirectoryName(kustomization.File)!;
            var reachable = new List<Manifests.Document>();
            foreach (var resource in kustomization.Root.Child("resources").Items().OfType<YamlScalarNode>().Select(n => n.Value!))
            {
                var path = Path.GetFullPath(Path.Combine(folder, resource));
                Assert.True(File.Exists(path) || File.Exists(Path.Combine(path, "kustomization.yaml")), $"{kustomization.File}: {resource} is missing");
                reachable.AddRange(Reachable(path));
            }
            foreach (var patch in kustomization.Root.Child("patches").Items())
            {
                var target = patch.Child("target");
                Assert.Contains(reachable, d => d.Kind == target.Str("kind") && d.Name == target.Str("name"));
            }
        }
    }

    [Fact]
    public void The_secret_example_holds_only_placeholders_and_is_never_applied()
    {
        var secrets = Manifests.Resources.Where(d => d.Kind == "Secret").ToList();
        Assert.NotEmpty(secrets);
        foreach (var secret in secrets)
        {
            foreach (var section in new[] { "stringData", "data" })
            {
                foreach (var (key, value) in Manifests.Scalars(secret.Root.Child(section) ?? new YamlMappingNode()))
                {
                    Assert.True(value.Contains("REPLACE_ME", StringComparison.Ordinal), $"{secret}: {key} is not a placeholder");
                }
            }
            // Listed in a kustomization, a placeholder would overwrite the real Secret on every apply.
            foreach (var kustomization in Manifests.All.Where(d => d.Kind == "Kustomization"))
            {
                Assert.DoesNotContain(Path.GetFileName(secret.File),
                    kustomization.Root.Child("resources").Items().OfType<YamlScalarNode>().Select(n => Path.GetFileName(n.Value!)));
            }
        }
    }

    [Fact]
    public void No_credentials_outside_the_secret_example()
    {
        foreach (var doc in Manifests.All.Where(d => d.Kind != "Secret"))
        {
            foreach (var (path, value) in Manifests.Scalars(doc.Root))
            {
                Assert.DoesNotMatch(CredentialValue(), value);
                if (doc.Kind == "ConfigMap")
                {
                    Assert.DoesNotMatch(SecretKeyName(), path);
                }
            }
        }
    }

    [Fact]
    public void Every_container_has_an_image_and_resources()
    {
        var workloads = Manifests.Resources.Where(d => d.PodSpec() is not null).ToList();
        Assert.Contains(workloads, d => d.Kind == "Deployment");
        Assert.Contains(workloads, d => d.Kind == "CronJob");
        foreach (var doc in workloads)
        {
            var pod = doc.PodSpec()!;
            Assert.Equal("true", pod.At("securityContext", "runAsNonRoot").AsString());
            foreach (var container in pod.Containers())
            {
                var name = container.Str("name");
                Assert.False(string.IsNullOrWhiteSpace(container.Str("image")), $"{doc}/{name}: image");
                Assert.NotNull(container.At("resources", "requests", "memory"));
                Assert.NotNull(container.At("resources", "limits", "memory"));
                Assert.Equal("false", container.At("securityContext", "allowPrivilegeEscalation").AsString());
            }
        }
    }

    [Fact]
    public void Gpu_workers_ask_for_a_gpu_land_on_gpu_nodes_and_are_probed()
    {
        var deployment = Manifests.Resources.Single(d => d.Kind == "Deployment" && d.Name == "emotionbatch-worker");
        var pod = deployment.PodSpec()!;
        var worker = pod.Containers().Single(c => c.Str("name") == "worker");

        Assert.Equal("1", worker.At("resources", "limits", "nvidia.com/gpu").AsString());
        Assert.NotEmpty(((YamlMappingNode)pod.Child("nodeSelector")!).Children);
        Assert.Contains(pod.Child("tolerations").Items(), t => t.Str("key") == "nvidia.com/gpu");
        Assert.Equal("8080", worker.Child("ports").Items().Single().Str("containerPort"));
        Assert.Equal("/healthz", worker.At("livenessProbe", "httpGet", "path").AsString());
        Assert.Equal("/readyz", worker.At("readinessProbe", "httpGet", "path").AsString());
        Assert.Equal(["run"], worker.Child("args").Items().Select(a => a.AsString()));
    }

    [Fact]
    public void Nightly_cron_job_runs_one_pass_on_a_valid_schedule()
    {
        var cron = Manifests.Resources.Single(d => d.Kind == "CronJob");
        var schedule = cron.Root.At("spec", "schedule").AsString()!;
        AssertValidCron(schedule);
        Assert.Equal("Forbid", cron.Root.At("spec", "concurrencyPolicy").AsString());
        var worker = cron.PodSpec()!.Containers().Single(c => c.Str("name") == "worker");
        Assert.Equal(["run", "--once"], worker.Child("args").Items().Select(a => a.AsString()));
        Assert.Equal("1", worker.At("resources", "limits", "nvidia.com/gpu").AsString());
        Assert.Equal("Never", cron.PodSpec()!.Str("restartPolicy"));
    }

    [Fact]
    public void Keda_scales_the_worker_on_blob_count_with_an_existing_authentication()
    {
        var scaled = Manifests.Resources.Single(d => d.Kind == "ScaledObject");
        Assert.Equal("emotionbatch-worker", scaled.Root.At("spec", "scaleTargetRef", "name").AsString());
        var trigger = scaled.Root.At("spec", "triggers").Items().Single();
        Assert.Equal("azure-blob", trigger.Str("type"));
        var metadata = trigger.Child("metadata");
        Assert.False(string.IsNullOrEmpty(metadata.Str("blobContainerName")));
        Assert.False(string.IsNullOrEmpty(metadata.Str("blobPrefix")));
        Assert.True(int.TryParse(metadata.Str("blobCount"), out var target) && target > 0);
        var authName = trigger.At("authenticationRef", "name").AsString();
        Assert.Contains(Manifests.Resources, d => d.Kind == "TriggerAuthentication" && d.Name == authName);
        Assert.True(int.Parse(scaled.Root.At("spec", "maxReplicaCount").AsString()!) >= 1);
    }

    [Fact]
    public void Every_setting_names_an_option_the_worker_binds()
    {
        // Options classes declare their section ("EmotionBatch:Source") and settable properties; a key that names
        // neither would be ignored silently by the configuration binder.
        var known = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            var properties = OptionProperty().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            foreach (Match section in OptionSection().Matches(text))
            {
                known.TryAdd(section.Groups[1].Value, new HashSet<string>(StringComparer.Ordinal));
                known[section.Groups[1].Value].UnionWith(properties);
            }
        }
        Assert.Contains("Source", known.Keys);

        var configMaps = Manifests.Resources.Where(d => d.Kind is "ConfigMap" or "Secret").ToList();
        var keys = configMaps.SelectMany(d => new[] { "data", "stringData" }.SelectMany(s =>
            Manifests.Scalars(d.Root.Child(s) ?? new YamlMappingNode()).Select(x => x.Path.TrimStart('/'))));
        foreach (var key in keys.Where(k => k.StartsWith("EmotionBatch__", StringComparison.Ordinal)))
        {
            var parts = key.Split("__");
            Assert.True(parts.Length == 3, $"{key}: expected EmotionBatch__Section__Key");
            Assert.True(known.TryGetValue(parts[1], out var properties), $"{key}: no options class binds section {parts[1]}");
            Assert.True(properties!.Contains(parts[2]), $"{key}: {parts[1]} has no setting {parts[2]}");
        }
    }

    private static void AssertValidCron(string schedule)
    {
        var fields = schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, fields.Length);
        (int Min, int Max)[] ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
        for (var i = 0; i < 5; i++)
        {
            foreach (var part in fields[i].Split(','))
            {
                var m = CronPart().Match(part);
                Assert.True(m.Success, $"cron field '{part}' in '{schedule}'");
                foreach (var group in new[] { "a", "b" })
                {
                    if (m.Groups[group].Success)
                    {
                        Assert.InRange(int.Parse(m.Groups[group].Value), ranges[i].Min, ranges[i].Max);
                    }
                }
            }
        }
    }

    private static IEnumerable<Manifests.Document> Reachable(string path)
    {
        if (File.Exists(path))
        {
            return Manifests.All.Where(d => d.File == path);
        }
        var kustomization = Manifests.All.Single(d => d.File == Path.Combine(path, "kustomization.yaml"));
        return kustomization.Root.Child("resources").Items().OfType<YamlScalarNode>()
            .SelectMany(n => Reachable(Path.GetFullPath(Path.Combine(path, n.Value!))));
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    // Account keys, SAS signatures, bearer tokens, private keys.
    [GeneratedRegex(@"AccountKey=[A-Za-z0-9+/]{20}|[?&]sig=[A-Za-z0-9%+/]{10}|SharedAccessSignature=|Bearer [A-Za-z0-9._-]{20}|-----BEGIN [A-Z ]*PRIVATE KEY")]
    private static partial Regex CredentialValue();

    [GeneratedRegex(@"(?i)ConnectionString|Password|AccountKey|ClientSecret|_URL$")]
    private static partial Regex SecretKeyName();

    [GeneratedRegex(@"const string SectionName = ""EmotionBatch:(\w+)""")]
    private static partial Regex OptionSection();

    [GeneratedRegex(@"public [\w?<>\[\], ]+ (\w+) \{ get; set; \}")]
    private static partial Regex OptionProperty();

    [GeneratedRegex(@"^(\*|(?<a>\d+)(-(?<b>\d+))?)(/\d+)?$")]
    private static partial Regex CronPart();
}

internal static class YamlNodeExtensions
{
    public static string? AsString(this YamlNode? node) => (node as YamlScalarNode)?.Value;
}

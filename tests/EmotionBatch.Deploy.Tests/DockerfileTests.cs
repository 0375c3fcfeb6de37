using System.Diagnostics;
using System.Text.RegularExpressions;
using EmotionBatch.Testing;

namespace EmotionBatch.Deploy.Tests;

/// <summary>
/// Structural checks of the Dockerfile, standing in for a build (no Docker on the development machines) and for a
/// linter (hadolint is served by neither apt nor npm here).
/// </summary>
[Trait("Category", "Fast")]
public sealed partial class DockerfileTests
{
    internal sealed record Instruction(string Keyword, string Arguments, int Line);

    internal sealed record Stage(string Image, string? Name, List<Instruction> Instructions);

    internal static readonly string DockerfilePath = Path.Combine(RepoPaths.Root, "Dockerfile");

    [Fact]
    public void Is_multi_stage_with_models_build_and_runtime()
    {
        var stages = Stages();
        Assert.Equal(["models", "build", "runtime"], stages.Select(s => s.Name));
        Assert.Contains(stages[0].Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("scripts/fetch-models.sh"));
        var publish = Assert.Single(stages[1].Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish"));
        Assert.Contains("src/EmotionBatch.Worker", publish.Arguments);
        Assert.Contains("--self-contained", publish.Arguments);
        Assert.Contains("-r linux-x64", publish.Arguments);
        Assert.Contains("-p:OnnxRuntimeFlavor=", publish.Arguments);
        Assert.Contains("-p:PublishReadyToRun=true", publish.Arguments);
        Assert.Contains(stages[2].Instructions, i => i.Keyword == "COPY" && i.Arguments.Contains("--from=build"));
        Assert.Contains(stages[2].Instructions, i => i.Keyword == "COPY" && i.Arguments.Contains("--from=models"));
    }

    [Fact]
    public void Base_images_are_pinned()
    {
        var args = GlobalArgs();
        foreach (var stage in Stages())
        {
            var image = Regex.Replace(stage.Image, @"\$\{(\w+)\}", m => args[m.Groups[1].Value]);
            Assert.True(image.Contains('@') || Regex.IsMatch(image, @":[\w.-]*\d[\w.-]*$"), $"{image} is not pinned to a version");
            Assert.DoesNotContain(":latest", image);
        }
        Assert.Equal("nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04", args["RUNTIME_IMAGE"]);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", args["SDK_IMAGE"]);
        Assert.StartsWith("node:20", args["NODE_IMAGE"]);
    }

    [Fact]
    public void Runtime_runs_as_non_root_with_health_check_and_the_worker_entrypoint()
    {
        var runtime = Stages()[^1].Instructions;
        var user = runtime.Last(i => i.Keyword == "USER").Arguments.Split(':')[0];
        Assert.NotEqual("root", user);
        Assert.NotEqual("0", user);
        Assert.Contains(runtime, i => i.Keyword == "HEALTHCHECK" && i.Arguments.Contains("/healthz") && i.Arguments.Contains("8080"));
        Assert.Equal("[\"/app/emotionbatch\"]", runtime.Single(i => i.Keyword == "ENTRYPOINT").Arguments);
        Assert.Equal("[\"run\"]", runtime.Single(i => i.Keyword == "CMD").Arguments);
        var install = string.Join(' ', runtime.Where(i => i.Keyword == "RUN").Select(i => i.Arguments));
        Assert.Contains("ffmpeg", install);
        Assert.Contains("fonts-dejavu-core", install);
        Assert.Contains(runtime, i => i.Keyword == "VOLUME" && i.Arguments.Contains("/models"));
    }

    [Fact]
    public void Holds_no_secrets()
    {
        foreach (var instruction in Stages().SelectMany(s => s.Instructions).Where(i => i.Keyword is "ENV" or "ARG" or "LABEL"))
        {
            Assert.DoesNotMatch(SecretName(), instruction.Arguments);
        }
        var text = File.ReadAllText(DockerfilePath);
        Assert.DoesNotMatch(@"AccountKey=[A-Za-z0-9+/]{10}|[?&]sig=[A-Za-z0-9%]{10}", text);
    }

    [Fact]
    public void Everything_copied_from_the_context_exists_and_is_not_ignored()
    {
        var ignore = File.ReadAllLines(Path.Combine(RepoPaths.Root, ".dockerignore"));
        foreach (var copy in Stages().SelectMany(s => s.Instructions).Where(i => i.Keyword == "COPY" && !i.Arguments.Contains("--from=")))
        {
            var parts = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("--", StringComparison.Ordinal)).ToList();
            foreach (var source in parts[..^1].Where(p => p != "."))
            {
                Assert.True(File.Exists(Path.Combine(RepoPaths.Root, source)) || Directory.Exists(Path.Combine(RepoPaths.Root, source)), $"COPY {source}: missing");
                Assert.False(IsIgnored(source, ignore), $"COPY {source}: excluded by .dockerignore");
            }
        }
        // The publish needs the sources, the central package versions and the settings file, not tests or outputs.
        foreach (var needed in new[] { "src/EmotionBatch.Worker/Program.cs", "Directory.Packages.props", "Directory.Build.props", "appsettings.json", "EmotionBatch.sln" })
        {
            Assert.False(IsIgnored(needed, ignore), $"{needed} must reach the build stage");
        }
        foreach (var excluded in new[] { "out/x.parquet", ".git/config", "node_modules/azurite/package.json", "src/EmotionBatch.Worker/bin/Debug/x.dll" })
        {
            Assert.True(IsIgnored(excluded, ignore), $"{excluded} should stay out of the build context");
        }
    }

    [Fact]
    public void Bundle_fetch_script_is_valid_shell()
    {
        var script = Path.Combine(RepoPaths.Root, "deploy", "docker", "fetch-bundle.sh");
        using var bash = Process.Start(new ProcessStartInfo("bash", ["-n", script]) { RedirectStandardError = true })!;
        var errors = bash.StandardError.ReadToEnd();
        bash.WaitForExit();
        Assert.True(bash.ExitCode == 0, errors);
        Assert.Contains("sha256sum", File.ReadAllText(script));
    }

    private static Dictionary<string, string> GlobalArgs()
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var instruction in Instructions().TakeWhile(i => i.Keyword != "FROM").Where(i => i.Keyword == "ARG"))
        {
            var (name, value) = (instruction.Arguments.Split('=', 2)[0], instruction.Arguments.Split('=', 2).ElementAtOrDefault(1) ?? "");
            args[name] = value;
        }
        return args;
    }

    internal static List<Stage> Stages()
    {
        var stages = new List<Stage>();
        foreach (var instruction in Instructions())
        {
            if (instruction.Keyword == "FROM")
            {
                var m = Regex.Match(instruction.Arguments, @"^(?:--platform=\S+\s+)?(?<image>\S+)(?:\s+AS\s+(?<name>\S+))?$", RegexOptions.IgnoreCase);
                Assert.True(m.Success, $"line {instruction.Line}: FROM {instruction.Arguments}");
                stages.Add(new Stage(m.Groups["image"].Value, m.Groups["name"].Success ? m.Groups["name"].Value : null, []));
            }
            else if (stages.Count > 0)
            {
                stages[^1].Instructions.Add(instruction);
            }
        }
        return stages;
    }

    /// <summary>Instructions with continuation lines joined and comments dropped, as the Docker parser sees them.</summary>
    private static List<Instruction> Instructions()
    {
        var result = new List<Instruction>();
        var lines = File.ReadAllLines(DockerfilePath);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var start = i;
            var text = line;
            while (text.EndsWith('\\') && i + 1 < lines.Length)
            {
                var next = lines[++i].Trim();
                text = text[..^1].TrimEnd() + " " + (next.StartsWith('#') ? "\\" : next);
                if (next.StartsWith('#'))
                {
                    text = text[..^1];
                }
            }
            var space = text.IndexOf(' ');
            Assert.True(space > 0, $"line {start + 1}: no arguments");
            result.Add(new Instruction(text[..space].ToUpperInvariant(), Regex.Replace(text[(space + 1)..].Trim(), @"\s+", " "), start + 1));
        }
        return result;
    }

    /// <summary>Approximates .dockerignore matching: '**/x/' anywhere, 'x/' as a top-level folder, '!' re-includes; last match wins.</summary>
    internal static bool IsIgnored(string path, IEnumerable<string> patterns)
    {
        var ignored = false;
        foreach (var raw in patterns.Select(p => p.Trim()).Where(p => p.Length > 0 && !p.StartsWith('#')))
        {
            var negate = raw.StartsWith('!');
            var pattern = (negate ? raw[1..] : raw).TrimEnd('/');
            var regex = "^" + Regex.Escape(pattern).Replace(@"\*\*/", "(.*/)?").Replace(@"\*", "[^/]*") + "(/.*)?$";
            if (Regex.IsMatch(path, regex))
            {
                ignored = !negate;
            }
        }
        return ignored;
    }

    [GeneratedRegex(@"(?i)(password|secret|connectionstring|accountkey|token|apikey)\S*=\S+")]
    private static partial Regex SecretName();
}

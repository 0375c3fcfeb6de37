using System.Diagnostics;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using EmotionBatch.Testing;
using Xunit.Abstractions;

namespace EmotionBatch.Deploy.Tests;

/// <summary>
/// The image's build and runtime stages without Docker: the Dockerfile's own publish command runs over a build
/// context filtered by .dockerignore, and the published program then processes the samples with the runtime stage's
/// environment, its image paths pointed at local folders. Catches a publish that fails (ReadyToRun, self-contained,
/// a file the context leaves out) and settings that do not reach the program.
/// </summary>
public sealed partial class PublishedImageTests : IDisposable
{
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("image");
    private readonly ITestOutputHelper _log;

    public PublishedImageTests(ITestOutputHelper log) => _log = log;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task The_published_program_processes_the_samples_with_the_runtime_environment()
    {
        var context = _temp.File("context");
        var app = _temp.File("app");
        CopyBuildContext(context);

        var publish = PublishArguments(flavour: "Cpu", output: app);
        _log.WriteLine("dotnet " + string.Join(' ', publish));
        var (published, publishOutput) = await RunAsync("dotnet", publish, context, new Dictionary<string, string>(), TimeSpan.FromMinutes(12));
        Assert.True(published == 0, "publish failed:\n" + Tail(publishOutput));
        Assert.True(File.Exists(Path.Combine(app, "emotionbatch")), "no emotionbatch executable in the publish output");
        var ownAssemblies = Directory.GetFiles(app, "*.dll").Where(f => Path.GetFileName(f).StartsWith("emotionbatch", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.NotEmpty(ownAssemblies);
        Assert.All(ownAssemblies, assembly => Assert.True(IsReadyToRun(assembly), $"{Path.GetFileName(assembly)} is not precompiled"));

        // The runtime stage's image paths, pointed at local folders.
        var work = Directory.CreateDirectory(_temp.File("work")).FullName;
        var output = _temp.File("out");
        var imagePaths = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["/opt/emotionbatch/silero-vad/silero_vad.onnx"] = RepoPaths.SileroVadOnnx,
            ["/models/bundle"] = RepoPaths.DefaultBundle,
            ["/work"] = work,
            ["/out"] = output,
        };
        var environment = RuntimeEnvironment().ToDictionary(e => e.Key, e => imagePaths.GetValueOrDefault(e.Value, e.Value));
        foreach (var (name, value) in environment.Where(e => e.Value.StartsWith('/') && !imagePaths.ContainsValue(e.Value)))
        {
            Assert.Fail($"ENV {name}={value} names an image path this test does not map");
        }

        var (exit, stdout) = await RunAsync(Path.Combine(app, "emotionbatch"), ["process", Path.Combine(RepoPaths.Root, "samples", "recordings")],
            work, environment, TimeSpan.FromMinutes(4));
        _log.WriteLine(stdout);
        Assert.True(exit == 0, stdout);
        Assert.Contains("5 recordings: 5 processed, 0 failed", stdout);
        var recordings = DuckDbParquet.Query(
            $"SELECT recording_id, count(*) AS n FROM {DuckDbParquet.Source(Path.Combine(output, "utterances", "**", "*.parquet"))} GROUP BY 1 ORDER BY 1");
        Assert.Equal(["bad-news.m4a", "complaint.mp3", "good-news.ogg", "support-call.wav", "two-channel-call.wav"], recordings.Select(r => (string)r["recording_id"]!).ToArray());
    }

    /// <summary>What <c>COPY . .</c> puts in the build stage: every file .dockerignore leaves in.</summary>
    private static void CopyBuildContext(string target)
    {
        var ignore = File.ReadAllLines(Path.Combine(RepoPaths.Root, ".dockerignore"));
        var skipped = new HashSet<string>(StringComparer.Ordinal) { ".git", "node_modules", "bin", "obj", "TestResults" };
        var pending = new Stack<string>([RepoPaths.Root]);
        while (pending.TryPop(out var folder))
        {
            foreach (var sub in Directory.EnumerateDirectories(folder).Where(d => !skipped.Contains(Path.GetFileName(d))))
            {
                pending.Push(sub);
            }
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                var relative = Path.GetRelativePath(RepoPaths.Root, file).Replace('\\', '/');
                if (!DockerfileTests.IsIgnored(relative, ignore))
                {
                    var destination = Path.Combine(target, relative);
                    Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                    File.Copy(file, destination);
                }
            }
        }
    }

    /// <summary>The build stage's <c>dotnet publish</c> arguments, with the flavour build argument and output folder set.</summary>
    private static List<string> PublishArguments(string flavour, string output)
    {
        var run = DockerfileTests.Stages().Single(s => s.Name == "build").Instructions
            .Single(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal)).Arguments;
        var command = PublishCommand().Match(run);
        Assert.True(command.Success, run);
        var arguments = command.Groups[1].Value.Replace("${ONNXRUNTIME_FLAVOR}", flavour, StringComparison.Ordinal)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var outputAt = arguments.IndexOf("-o");
        Assert.True(outputAt > 0 && arguments[outputAt + 1] == "/app", run);
        arguments[outputAt + 1] = output;
        Assert.DoesNotContain(arguments, a => a.Contains('$'));
        return arguments;
    }

    /// <summary>Name and value of every ENV the runtime stage sets.</summary>
    private static IEnumerable<KeyValuePair<string, string>> RuntimeEnvironment() =>
        DockerfileTests.Stages().Single(s => s.Name == "runtime").Instructions
            .Where(i => i.Keyword == "ENV")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2))
            .Select(pair => KeyValuePair.Create(pair[0], pair[1]));

    private static async Task<(int ExitCode, string Output)> RunAsync(
        string program, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The test host's MSBuild variables would steer a nested build at the test run's own SDK state.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish within {timeout}:\n{Tail(await stdout + await stderr)}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>A ReadyToRun image carries a managed native header beside its IL.</summary>
    private static bool IsReadyToRun(string assembly)
    {
        using var reader = new PEReader(File.OpenRead(assembly));
        return reader.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0;
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : "...\n" + text[^6000..];

    /// <summary>The publish command itself, without the cache mount before it or the clean-up after it.</summary>
    [GeneratedRegex(@"(?:^|\s)dotnet (publish .+?)(?:\s&&|$)")]
    private static partial Regex PublishCommand();
}

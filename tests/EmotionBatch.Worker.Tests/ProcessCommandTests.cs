using System.Diagnostics;
using EmotionBatch.Testing;
using Xunit;

namespace EmotionBatch.Worker.Tests;

/// <summary>The first command of the README, run as a real process: the samples folder becomes Parquet.</summary>
public sealed class ProcessCommandTests : IDisposable
{
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("process-cli");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Process_command_turns_the_sample_folder_into_parquet_and_skips_it_the_second_time()
    {
        var output = _temp.File("out");
        var (exit, stdout) = await RunCliAsync("process", "samples/recordings", "--output", output);
        Assert.True(exit == 0, stdout);
        Assert.Contains("5 recordings: 5 processed, 0 failed", stdout);

        var recordings = DuckDbParquet.Query(
            $"SELECT recording_id, count(*) AS n FROM {DuckDbParquet.Source(Path.Combine(output, "utterances", "**", "*.parquet"))} GROUP BY 1 ORDER BY 1");
        Assert.Equal(["bad-news.m4a", "complaint.mp3", "good-news.ogg", "support-call.wav", "two-channel-call.wav"], recordings.Select(r => (string)r["recording_id"]!).ToArray());
        // Each sample speaks three or four sentences separated by pauses; the two-channel call six turns, some cut at a comma.
        Assert.All(recordings, r => Assert.InRange(Convert.ToInt64(r["n"]), 2, (string)r["recording_id"]! == "two-channel-call.wav" ? 12 : 6));

        var (exitAgain, stdoutAgain) = await RunCliAsync("process", "samples/recordings", "--output", output);
        Assert.True(exitAgain == 0, stdoutAgain);
        Assert.Contains("0 processed, 0 failed, 5 already done", stdoutAgain);
    }

    [Fact]
    public async Task Process_command_reports_failures_with_a_distinct_exit_code()
    {
        var input = SpeechFolder("in", "good.wav");
        await File.WriteAllTextAsync(Path.Combine(input, "broken.mp3"), "this is not an mp3");

        var (exit, stdout) = await RunCliAsync("process", input, "--output", _temp.File("out"));
        Assert.Equal(3, exit);
        Assert.Contains("FAILED  broken.mp3", stdout);
        Assert.Contains("1 processed, 1 failed", stdout);

        // A second pass leaves the permanently failed recording alone and says so, rather than calling it done.
        var (again, stdoutAgain) = await RunCliAsync("process", input, "--output", _temp.File("out"));
        Assert.Equal(0, again);
        Assert.Contains("skipped broken.mp3 (failed in an earlier pass", stdoutAgain);
        Assert.Contains("0 processed, 0 failed, 1 already done, 0 without speech, 1 failed earlier", stdoutAgain);
    }

    [Fact]
    public async Task Process_command_on_one_file_processes_that_file()
    {
        var input = SpeechFolder("single", "call.wav", "not-asked-for.wav");

        var (exit, stdout) = await RunCliAsync("process", Path.Combine(input, "call.wav"), "--output", _temp.File("out-single"));

        Assert.True(exit == 0, stdout);
        Assert.Contains("done    call.wav", stdout);
        Assert.Contains("1 recordings: 1 processed, 0 failed", stdout);
    }

    [Fact]
    public async Task Run_once_exits_3_when_a_recording_failed_and_0_when_all_was_done()
    {
        var input = SpeechFolder("once-in", "good.wav");
        await File.WriteAllTextAsync(Path.Combine(input, "broken.mp3"), "this is not an mp3");
        var output = _temp.File("once-out");

        var (exit, log) = await RunCliAsync(["run", "--once"], Once(input, output));
        Assert.True(exit == 3, log);

        // Control: a source whose recordings all succeed exits 0.
        File.Delete(Path.Combine(input, "broken.mp3"));
        var (exitClean, logClean) = await RunCliAsync(["run", "--once"], Once(input, _temp.File("once-out-clean")));
        Assert.True(exitClean == 0, logClean);
    }

    [Fact]
    public async Task Run_once_stops_with_exit_2_when_the_pass_itself_fails_instead_of_polling_for_ever()
    {
        var input = SpeechFolder("pass-in", "good.wav");
        // The ledger folder is a file: the store cannot read any recording's state, so the pass throws.
        var output = _temp.File("pass-out");
        Directory.CreateDirectory(output);
        await File.WriteAllTextAsync(Path.Combine(output, "_state"), "not a folder");

        var (exit, log) = await RunCliAsync(["run", "--once"], Once(input, output));

        Assert.True(exit == 2, log);
        Assert.Contains("Pass failed; stopping (run once)", log);
    }

    [Fact]
    public async Task An_output_path_that_is_a_file_stops_the_start_with_one_message_naming_the_setting()
    {
        var output = _temp.File("output-is-a-file");
        await File.WriteAllTextAsync(output, "not a folder");

        var (exit, log) = await RunCliAsync(["run", "--once"], Once(RepoPaths.JfkWav, output));

        Assert.Equal(1, exit);
        Assert.Contains("EmotionBatch:Output:LocalPath", log);
        Assert.DoesNotContain("   at ", log);
        Assert.Single(log.Split('\n'), line => line.Contains("cannot be used as the output folder", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_up_sweeps_what_a_killed_worker_left_and_keeps_what_a_live_one_is_writing()
    {
        var work = _temp.File("work");
        var output = _temp.File("sweep-out");
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(Path.Combine(output, "utterances", "date=2026-12-03"));
        const string Key = "0123456789abcdef0123456789abcdef-fedcba9876543210fedcba9876543210";
        var oldPartial = Path.Combine(work, Key + ".wav.5f2c00000000000000000000000000aa.partial");
        var oldDownload = Path.Combine(work, Key + ".mp3");
        var notOurs = Path.Combine(work, "notes.txt");
        var oldTemp = Path.Combine(output, "utterances", "date=2026-12-03", ".tmp-0123");
        var freshPartial = Path.Combine(work, Key + ".wav.77aa00000000000000000000000000bb.partial");
        foreach (var file in new[] { oldPartial, oldDownload, notOurs, oldTemp, freshPartial })
        {
            await File.WriteAllTextAsync(file, "left behind");
        }
        foreach (var file in new[] { oldPartial, oldDownload, notOurs, oldTemp })
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-2));
        }

        var (exit, stdout) = await RunCliAsync("process", RepoPaths.JfkWav, "--output", output);

        Assert.True(exit == 0, stdout);
        Assert.False(File.Exists(oldPartial));
        Assert.False(File.Exists(oldTemp));
        Assert.False(File.Exists(oldDownload));
        // Controls: a live download and a file the worker did not write stay.
        Assert.True(File.Exists(freshPartial));
        Assert.True(File.Exists(notOurs));
    }

    /// <summary>A new folder holding a copy of jfk.wav under each of <paramref name="names"/>.</summary>
    private string SpeechFolder(string folder, params string[] names)
    {
        var path = _temp.File(folder);
        Directory.CreateDirectory(path);
        foreach (var name in names)
        {
            File.Copy(RepoPaths.JfkWav, Path.Combine(path, name));
        }
        return path;
    }

    private static Dictionary<string, string> Once(string input, string output) => new()
    {
        ["EmotionBatch__Source__LocalPath"] = input,
        ["EmotionBatch__Output__LocalPath"] = output,
        ["EmotionBatch__Telemetry__HealthPort"] = "0",
    };

    private Task<(int ExitCode, string Output)> RunCliAsync(params string[] arguments) => RunCliAsync(arguments, new Dictionary<string, string>());

    private async Task<(int ExitCode, string Output)> RunCliAsync(string[] arguments, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "emotionbatch.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["EmotionBatch__Model__BundlePath"] = WorkerHarness.Bundle;
        start.Environment["EmotionBatch__Vad__ModelPath"] = RepoPaths.SileroVadOnnx;
        start.Environment["EmotionBatch__Worker__WorkFolder"] = _temp.File("work");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

[Trait("Category", "Fast")]
public sealed class TargetSettingsTests
{
    [Theory]
    [InlineData("https://acct.blob.core.windows.net/calls", "https://acct.blob.core.windows.net/", "calls", "")]
    [InlineData("https://acct.blob.core.windows.net/calls/2026/11", "https://acct.blob.core.windows.net/", "calls", "2026/11")]
    [InlineData("https://acct.blob.core.windows.net/calls/x?sv=1&sig=abc", "https://acct.blob.core.windows.net/?sv=1&sig=abc", "calls", "x")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/calls/in", "http://127.0.0.1:10000/devstoreaccount1", "calls", "in")]
    public void Blob_uris_become_service_container_and_prefix(string target, string service, string container, string prefix)
    {
        var settings = Cli.TargetSettings.For(target);
        Assert.Equal("Blob", settings["EmotionBatch:Source:Kind"]);
        Assert.Equal(service, settings["EmotionBatch:Source:ServiceUri"]);
        Assert.Equal(container, settings["EmotionBatch:Source:ContainerName"]);
        Assert.Equal(prefix, settings["EmotionBatch:Source:Prefix"]);
    }

    [Fact]
    public void A_uri_without_a_container_is_refused() =>
        Assert.Throws<ArgumentException>(() => Cli.TargetSettings.For("https://acct.blob.core.windows.net/"));
}

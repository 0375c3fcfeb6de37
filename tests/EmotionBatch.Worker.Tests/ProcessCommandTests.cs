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
        Assert.Contains("4 recordings: 4 processed, 0 failed", stdout);

        var recordings = DuckDbParquet.Query(
            $"SELECT recording_id, count(*) AS n FROM {DuckDbParquet.Source(Path.Combine(output, "utterances", "**", "*.parquet"))} GROUP BY 1 ORDER BY 1");
        Assert.Equal(["bad-news.m4a", "complaint.mp3", "good-news.ogg", "support-call.wav"], recordings.Select(r => (string)r["recording_id"]!).ToArray());
        // Each sample speaks three or four sentences separated by pauses.
        Assert.All(recordings, r => Assert.InRange(Convert.ToInt64(r["n"]), 2, 6));

        var (exitAgain, stdoutAgain) = await RunCliAsync("process", "samples/recordings", "--output", output);
        Assert.True(exitAgain == 0, stdoutAgain);
        Assert.Contains("0 processed, 0 failed, 4 already done", stdoutAgain);
    }

    [Fact]
    public async Task Process_command_reports_failures_with_a_distinct_exit_code()
    {
        var input = _temp.File("in");
        Directory.CreateDirectory(input);
        File.Copy(RepoPaths.JfkWav, Path.Combine(input, "good.wav"));
        await File.WriteAllTextAsync(Path.Combine(input, "broken.mp3"), "this is not an mp3");

        var (exit, stdout) = await RunCliAsync("process", input, "--output", _temp.File("out"));
        Assert.Equal(3, exit);
        Assert.Contains("FAILED  broken.mp3", stdout);
        Assert.Contains("1 processed, 1 failed", stdout);
    }

    private async Task<(int ExitCode, string Output)> RunCliAsync(params string[] arguments)
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

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

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

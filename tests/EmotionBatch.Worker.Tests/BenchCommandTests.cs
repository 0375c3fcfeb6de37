using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EmotionBatch.Benchmarking;
using EmotionBatch.Testing;
using Xunit;
using Xunit.Abstractions;

namespace EmotionBatch.Worker.Tests;

/// <summary>
/// The bench runs end to end on a minute of generated audio and reports every stage, CPU included. It reports; it
/// asserts no speed.
/// </summary>
public sealed partial class BenchCommandTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("bench");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Bench_reports_every_stage_the_whole_pipeline_and_their_cpu()
    {
        using var bench = WorkerProcess.StartAssembly(WorkerProcess.BenchAssembly, new Dictionary<string, string?>(),
            "--bundle", WorkerHarness.Bundle, "--vad-model", RepoPaths.SileroVadOnnx,
            "--minutes", "1", "--recordings", "2", "--repeat", "1", "--overhead-rounds", "2", "--work", _temp.Path);
        Assert.True(await bench.WaitForExitAsync(TimeSpan.FromMinutes(5)), "bench did not finish:\n" + bench.Output);
        log.WriteLine(bench.Output);
        Assert.True(bench.ExitCode == 0, bench.Output);

        var rows = TableRow().Matches(bench.Output).ToDictionary(m => m.Groups["stage"].Value.Trim(), m => m);
        foreach (var stage in new[] { "decode", "VAD", "emotion, C# OnnxEmotionModel", "emotion, C#, audio only", "Parquet write", "whole pipeline" })
        {
            var row = Assert.Single(rows, r => r.Key.StartsWith(stage, StringComparison.Ordinal)).Value;
            Assert.True(Number(row, "wall") > 0, row.Value);
            Assert.InRange(Number(row, "audio"), 55, 65);
            // The CPU column is filled for every stage the pipeline is made of.
            Assert.True(Number(row, "cpu") > 0, row.Value);
        }
        Assert.Contains("whole pipeline / slowest stage alone", bench.Output);
        Assert.Matches(@"CPU \(user \+ system, ffmpeg included\): stages alone \d+\.\d\d s .*whole pipeline \d+\.\d\d s", bench.Output);
        Assert.Matches(@"C# OnnxEmotionModel vs raw InferenceSession\.Run on identical batches", bench.Output);
        Assert.Contains("ASR (Whisper.net)", bench.Output);
    }

    [Fact]
    public async Task Acoustic_graph_alone_with_profile_says_where_its_time_goes()
    {
        var graph = Path.Combine(RepoPaths.DefaultBundle, "acoustic_encoder.onnx");
        var prefix = Path.Combine(_temp.Path, "acoustic");
        using var bench = WorkerProcess.StartAssembly(WorkerProcess.BenchAssembly, new Dictionary<string, string?>(),
            "--acoustic-onnx", graph, "--utterances", "3", "--utterance-seconds", "1.5", "--batch-size", "2", "--repeat", "1",
            "--profile", prefix);
        Assert.True(await bench.WaitForExitAsync(TimeSpan.FromMinutes(2)), "bench did not finish:\n" + bench.Output);
        log.WriteLine(bench.Output);
        Assert.True(bench.ExitCode == 0, bench.Output);

        var written = Assert.Single(Directory.GetFiles(_temp.Path, "acoustic_acoustic_encoder_1*.json"));
        var profile = OrtProfile.Read(written);
        // The default bundle's acoustic graph is mostly convolutions (its encoder and STFTs), in modules named after
        // the exported PyTorch modules.
        Assert.Equal("Conv", profile.ByOperator[0].Name);
        Assert.Contains(profile.ByModule, m => m.Name == "/embedding_frontend");
        Assert.Contains("by operator:", bench.Output);
        Assert.Contains(Path.GetFullPath(written), bench.Output);
    }

    [Fact]
    public void Profile_sums_kernel_time_by_operator_and_module_and_ignores_other_events()
    {
        var file = Path.Combine(_temp.Path, "trace.json");
        File.WriteAllText(file, """
            [
              {"cat": "Session", "name": "model_run", "dur": 9000},
              {"cat": "Node", "name": "/a/Conv_1_fence_before", "dur": 500, "args": {"op_name": "Conv"}},
              {"cat": "Node", "name": "/a/Conv_1_kernel_time", "dur": 600, "args": {"op_name": "Conv"}},
              {"cat": "Node", "name": "/b/Conv_kernel_time", "dur": 200, "args": {"op_name": "Conv"}},
              {"cat": "Node", "name": "/Mul_4_kernel_time", "dur": 100, "args": {"op_name": "Mul"}},
              {"cat": "Node", "name": "ReorderOutput_token_7_kernel_time", "dur": 100, "args": {"op_name": "ReorderOutput"}}
            ]
            """);
        var profile = OrtProfile.Read(file);
        Assert.Equal(0.001, profile.KernelSeconds, 9);
        Assert.Equal([("Conv", 0.8), ("Mul", 0.1), ("ReorderOutput", 0.1)], profile.ByOperator.Select(o => (o.Name, Math.Round(o.Share, 9))));
        Assert.Equal([("/a", 0.6), ("/b", 0.2)], profile.ByModule.Take(2).Select(m => (m.Name, Math.Round(m.Share, 9))));
        Assert.Contains(("(top level)", 0.1), profile.ByModule.Select(m => (m.Name, Math.Round(m.Share, 9))));
        Assert.Contains(("(added by ONNX Runtime)", 0.1), profile.ByModule.Select(m => (m.Name, Math.Round(m.Share, 9))));
    }

    [Fact]
    public void A_json_file_that_is_no_profile_is_refused()
    {
        var file = Path.Combine(_temp.Path, "other.json");
        File.WriteAllText(file, "[{\"cat\": \"Session\", \"name\": \"model_loading_uri\", \"dur\": 5}]");
        Assert.Throws<InvalidDataException>(() => OrtProfile.Read(file));
    }

    [Fact]
    public async Task Profile_without_a_graph_to_profile_is_refused()
    {
        using var bench = WorkerProcess.StartAssembly(WorkerProcess.BenchAssembly, new Dictionary<string, string?>(),
            "--bundle", RepoPaths.DefaultBundle, "--profile", Path.Combine(_temp.Path, "p"));
        Assert.True(await bench.WaitForExitAsync(TimeSpan.FromMinutes(1)), bench.Output);
        Assert.Equal(2, bench.ExitCode);
        Assert.Contains("--profile takes a path prefix", bench.Output);
    }

    [Fact]
    public void Cpu_clock_counts_this_process_and_children_that_have_exited()
    {
        var before = CpuClock.Seconds();
        var spin = Stopwatch.StartNew();
        var x = 0.0;
        while (spin.Elapsed < TimeSpan.FromMilliseconds(300))
        {
            x += Math.Sqrt(x + 1);
        }
        var own = CpuClock.Seconds() - before;
        Assert.True(own > 0.05 && own < 5, $"{own} s for a 0.3 s spin ({x})");

        // A shell that burns CPU and prints its own utime + stime (clock ticks) from /proc as it ends.
        before = CpuClock.Seconds();
        using var child = Process.Start(new ProcessStartInfo("sh", ["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; cat /proc/$$/stat"])
        {
            RedirectStandardOutput = true,
        })!;
        var stat = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var counted = CpuClock.Seconds() - before;
        // Fields after the command name: state is the 3rd field, utime and stime the 14th and 15th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var childSeconds = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        Assert.True(childSeconds > 0.05, $"the child used only {childSeconds} s");
        Assert.True(counted >= childSeconds - 0.02, $"counted {counted} s, the child alone used {childSeconds} s");
    }

    private static double Number(Match row, string group) =>
        double.Parse(row.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(?<stage>\S.*?)\s+(?<wall>\d+\.\d{3})\s+(?<best>\d+\.\d{3})\s+(?<cpu>\d+\.\d{3}|-)\s+(?<audio>\d+\.\d)\s+\S+x\s", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}

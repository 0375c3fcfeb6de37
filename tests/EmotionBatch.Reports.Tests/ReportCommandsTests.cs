using System.CommandLine;
using EmotionBatch.Reports.Cli;
using EmotionBatch.Datasets;
using EmotionBatch.Testing;
using SkiaSharp;

namespace EmotionBatch.Reports.Tests;

public sealed class ReportCommandsTests
{
    [Fact]
    public async Task Report_without_recording_draws_one_picture_per_recording()
    {
        using var temp = RepoPaths.NewTempFolder("cli-report");
        var output = temp.File("out");
        await TestDatasetWriter.WriteUtterancesAsync(output, SampleDataset.All());

        var (code, stdout, _) = await RunAsync("report", "--input", output, "--output", temp.File("reports"));

        Assert.Equal(0, code);
        var pictures = Directory.GetFiles(temp.File("reports"), "*.png").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["bad-news.m4a.png", "calls_2026-11-03_call-0142.wav.png", "complaint.mp3.png", "good-news.ogg.png", "support-call.wav.png"], pictures);
        Assert.Contains("complaint.mp3: 3 utterances", stdout);
    }

    [Fact]
    public async Task Report_for_one_recording_writes_the_named_file_in_the_asked_format()
    {
        using var temp = RepoPaths.NewTempFolder("cli-report-one");
        var output = temp.File("out");
        await TestDatasetWriter.WriteUtterancesAsync(output, SampleDataset.All());

        var (code, _, _) = await RunAsync("report", "-i", output, "-r", SampleDataset.LongCallId, "-o", temp.File("call.svg"));
        Assert.Equal(0, code);
        Assert.Contains("<svg", await File.ReadAllTextAsync(temp.File("call.svg")));

        (code, _, _) = await RunAsync("report", "-i", output, "-r", "complaint.mp3", "-o", temp.File("c.img"), "--format", "png", "--width", "900", "--height", "400");
        Assert.Equal(0, code);
        using var bitmap = SKBitmap.Decode(temp.File("c.img"));
        Assert.Equal((900, 400), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public async Task Report_of_an_unknown_recording_fails_with_a_reason()
    {
        using var temp = RepoPaths.NewTempFolder("cli-report-unknown");
        await TestDatasetWriter.WriteUtterancesAsync(temp.Path, SampleDataset.All());

        var (code, _, stderr) = await RunAsync("report", "-i", temp.Path, "-r", "nope.wav", "-o", temp.File("x.png"));

        Assert.Equal(ReportCommands.ExitNoData, code);
        Assert.Contains("nope.wav", stderr);
        Assert.False(File.Exists(temp.File("x.png")));

        (code, _, stderr) = await RunAsync("report", "-i", temp.File("missing"));
        Assert.Equal(ReportCommands.ExitNoData, code);
        Assert.Contains("No utterances dataset", stderr);
    }

    [Fact]
    public async Task Summarize_rebuilds_idempotently_and_keeps_measured_durations()
    {
        using var temp = RepoPaths.NewTempFolder("cli-summarize");
        await TestDatasetWriter.WriteUtterancesAsync(temp.Path, SampleDataset.All());
        // A summary written at processing time knows the real duration (the call had silence after the last words).
        var measured = RecordingSummary.From(SampleDataset.LongCall(), 240.0);
        var measuredPath = Path.Combine(temp.Path, SummaryParquet.RelativePath(measured));
        Directory.CreateDirectory(Path.GetDirectoryName(measuredPath)!);
        await AtomicFile.WriteAsync(measuredPath, (stream, token) => SummaryParquet.WriteAsync([measured], stream, token), CancellationToken.None);

        var (code, stdout, _) = await RunAsync("summarize", "--input", temp.Path);
        Assert.Equal(0, code);
        Assert.Contains("5 summaries written", stdout);
        (code, _, _) = await RunAsync("summarize", "--input", temp.Path);
        Assert.Equal(0, code);

        var files = Directory.GetFiles(Path.Combine(temp.Path, "summaries"), "*.parquet", SearchOption.AllDirectories);
        Assert.Equal(5, files.Length);
        var result = Duck.Query($"""
            SELECT recording_id, duration_seconds, dominant_emotion, "date"
            FROM read_parquet('{temp.Path}/summaries/**/*.parquet', hive_partitioning = true) ORDER BY recording_id
            """);
        Assert.Equal(5, result.Rows.Count);
        Assert.Equal(240.0, Duck.Double(result.Rows.Single(r => (string)r["recording_id"]! == SampleDataset.LongCallId)["duration_seconds"]));
        Assert.Equal("angry", result.Rows.Single(r => (string)r["recording_id"]! == "complaint.mp3")["dominant_emotion"]);
        Assert.Equal(new DateOnly(2026, 11, 24), result.Rows[0]["date"] is DateOnly day ? day : DateOnly.FromDateTime(Convert.ToDateTime(result.Rows[0]["date"])));
    }

    [Fact]
    public void File_names_from_ids_are_safe_and_unique()
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Assert.Equal("2026_11_call_17.wav", ReportCommands.FileNameFor("2026/11/call 17.wav", used));
        var second = ReportCommands.FileNameFor("2026_11_call_17.wav", used);
        Assert.StartsWith("2026_11_call_17.wav_", second);
        Assert.DoesNotContain("..", ReportCommands.FileNameFor("../../etc/passwd", used));
    }

    /// <summary>Invokes a command the way the executable does, under a root command, capturing its output.</summary>
    internal static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(ReportCommands.CreateReportCommand());
        root.Subcommands.Add(ReportCommands.CreateSummarizeCommand());
        root.Subcommands.Add(ReportCommands.CreateEvaluateCommand());
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
        return (code, stdout.ToString(), stderr.ToString());
    }
}

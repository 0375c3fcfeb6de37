using System.Diagnostics;
using System.Globalization;
using EmotionBatch.Testing;
using Xunit;
using Xunit.Abstractions;

namespace EmotionBatch.Worker.Tests;

/// <summary>
/// Two-channel telephone recordings through the real host: each channel its own stream of utterances with its role,
/// one timeline per recording, overlap marked, line echo not taken for speech, and the per-channel summaries.
/// </summary>
public sealed class ChannelSplitTests(ITestOutputHelper log) : IDisposable
{
    private static readonly string SampleCall = Path.Combine(RepoPaths.Root, "samples", "recordings", "two-channel-call.wav");

    private readonly TempFolder _temp = RepoPaths.NewTempFolder("channels");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task The_sample_call_becomes_one_timeline_of_agent_and_customer_utterances()
    {
        var output = await ProcessAsync("call", [SampleCall], ("EmotionBatch:Decoder:ChannelRoles:0", "agent"), ("EmotionBatch:Decoder:ChannelRoles:1", "customer"));

        var rows = Rows(output);
        Assert.Equal(Enumerable.Range(0, rows.Count), rows.Select(r => Convert.ToInt32(r["utterance_index"], CultureInfo.InvariantCulture)));
        var starts = rows.Select(r => (double)r["start_seconds"]!).ToList();
        Assert.Equal(starts.Order(), starts);
        // Three turns each (the VAD may cut a turn at a comma); the customer's second turn starts while the agent is still speaking.
        var agent = rows.Where(r => (int)r["channel"]! == 0).ToList();
        var customer = rows.Where(r => (int)r["channel"]! == 1).ToList();
        Assert.All(agent, r => Assert.Equal("agent", r["speaker_role"]));
        Assert.All(customer, r => Assert.Equal("customer", r["speaker_role"]));
        Assert.InRange(agent.Count, 3, 6);
        Assert.InRange(customer.Count, 3, 6);
        Assert.Contains(customer, r => (bool)r["overlap"]! && (double)r["start_seconds"]! is > 12.5 and < 14);
        Assert.Contains(agent, r => (bool)r["overlap"]!);
        Assert.DoesNotContain(rows, r => (bool)r["overlap"]! && (double)r["end_seconds"]! < 10);

        // One summary row per recording, one channel summary per party.
        Assert.Equal(1, DuckDbParquet.Count(Path.Combine(output, "summaries", "**", "*.parquet")));
        var parties = DuckDbParquet.ReadRows(Path.Combine(output, "channel_summaries", "**", "*.parquet"), orderBy: "channel");
        Assert.Equal(["agent", "customer"], parties.Select(p => (string)p["speaker_role"]!).ToArray());
        Assert.Equal(1.0, parties.Sum(p => (double)p["talk_share"]!), 3);
        Assert.All(parties, p => Assert.InRange((double)p["overlap_share"]!, 0.01, 0.9));
        Assert.All(parties, p => Assert.NotNull(p["valence_first_third"]));
        Assert.All(parties, p => Assert.NotNull(p["valence_last_third"]));
    }

    [Fact]
    public async Task The_call_centre_sample_queries_answer_from_the_workers_output()
    {
        var output = await ProcessAsync("queries", [SampleCall], ("EmotionBatch:Decoder:ChannelRoles:0", "agent"), ("EmotionBatch:Decoder:ChannelRoles:1", "customer"));
        var parties = DuckDbParquet.ReadRows(Path.Combine(output, "channel_summaries", "**", "*.parquet"), orderBy: "channel");
        var customer = parties.Single(p => (string?)p["speaker_role"] == "customer");
        var agent = parties.Single(p => (string?)p["speaker_role"] == "agent");

        var fell = SampleQuery("customer-valence-fell.sql", output);
        // What the query must answer follows from the customer's own summary row.
        var customerFell = (float)customer["valence_last_third"]! < (float)customer["valence_first_third"]!;
        Assert.Equal(customerFell ? 1 : 0, fell.Count);
        if (customerFell)
        {
            Assert.Equal("two-channel-call.wav", fell[0]["recording_id"]);
            Assert.True(Convert.ToDouble(fell[0]["valence_change"], CultureInfo.InvariantCulture) < 0);
        }

        var angry = SampleQuery("agent-angry-share.sql", output);
        Assert.Equal(["two-channel-call.wav", "(all calls)"], angry.Select(r => (string)r["recording_id"]!).ToArray());
        Assert.Equal((float)agent["share_angry"]!, Convert.ToDouble(angry[0]["share_angry"], CultureInfo.InvariantCulture), 3);
        Assert.Equal(Convert.ToDouble(angry[0]["share_angry"], CultureInfo.InvariantCulture), Convert.ToDouble(angry[1]["share_angry"], CultureInfo.InvariantCulture), 3);
    }

    [Fact]
    public async Task Summarize_after_the_worker_replaces_its_summaries_instead_of_counting_a_recording_twice()
    {
        // Recorded long before today: the worker dates its files by the recording's modified time, not by processing day.
        var old = _temp.File("old-call.wav");
        File.Copy(SampleCall, old);
        File.SetLastWriteTimeUtc(old, new DateTime(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc));
        var output = await ProcessAsync("summarize", [old]);
        var before = DuckDbParquet.Count(Path.Combine(output, "summaries", "**", "*.parquet"));
        var channelsBefore = DuckDbParquet.Count(Path.Combine(output, "channel_summaries", "**", "*.parquet"));

        await EmotionBatch.Datasets.SummaryDatasetBuilder.RebuildAsync(output, output);

        Assert.Equal(1, before);
        Assert.Equal(1, DuckDbParquet.Count(Path.Combine(output, "summaries", "**", "*.parquet")));
        Assert.Equal(2, channelsBefore);
        Assert.Equal(channelsBefore, DuckDbParquet.Count(Path.Combine(output, "channel_summaries", "**", "*.parquet")));
    }

    [Fact]
    public async Task Line_echo_at_minus_25_dB_and_120_ms_late_is_not_speech_of_the_other_party()
    {
        // Party A speaks only on the left, party B only on the right later; each leaks onto the other line at -25 dB,
        // 120 ms late, as line echo does.
        var call = _temp.File("echo.wav");
        await FfmpegAsync("-i", RepoPaths.JfkWav, "-i", RepoPaths.JfkWav, "-filter_complex",
            "[0:a]aresample=16000,apad=pad_dur=14[a];[1:a]aresample=16000,adelay=13000,apad=pad_dur=2[b];" +
            "[a]asplit[a1][a2];[b]asplit[b1][b2];[a2]volume=-25dB,adelay=120[ae];[b2]volume=-25dB,adelay=120[be];" +
            "[a1][be]amix=inputs=2:normalize=0:duration=longest[left];[b1][ae]amix=inputs=2:normalize=0:duration=longest[right];" +
            "[left][right]join=inputs=2:channel_layout=stereo[out]",
            "-map", "[out]", "-ar", "8000", "-c:a", "pcm_mulaw", call);

        var rows = Rows(await ProcessAsync("echo", [call]));
        var jfkSeconds = 11.0;
        Assert.Contains(rows, r => (int)r["channel"]! == 0);
        Assert.Contains(rows, r => (int)r["channel"]! == 1);
        // Left: only A (0-11 s); right: only B (13-24 s). Echo would put utterances on the wrong side of the 12 s mark.
        Assert.All(rows.Where(r => (int)r["channel"]! == 0), r => Assert.True((double)r["start_seconds"]! < jfkSeconds, Describe(r)));
        Assert.All(rows.Where(r => (int)r["channel"]! == 1), r => Assert.True((double)r["end_seconds"]! > 13, Describe(r)));
        Assert.DoesNotContain(rows, r => (bool)r["overlap"]!);

        // Control: with the echo check off (60 dB), the VAD hears the echo as speech on the wrong channel.
        var unchecked_ = Rows(await ProcessAsync("echo-unchecked", [call], ("EmotionBatch:Decoder:CrosstalkDecibels", "60")));
        Assert.Contains(unchecked_, r => (int)r["channel"]! == 1 && (double)r["end_seconds"]! < 12);
    }

    [Fact]
    public async Task Dual_mono_is_mixed_in_Auto_and_split_only_when_asked()
    {
        var stereo = _temp.File("dual-mono.mp3");
        await FfmpegAsync("-i", RepoPaths.JfkWav, "-ac", "2", "-c:a", "libmp3lame", "-b:a", "64k", stereo);

        var auto = Rows(await ProcessAsync("auto", [stereo], ("EmotionBatch:Decoder:ChannelRoles:0", "agent"), ("EmotionBatch:Decoder:ChannelRoles:1", "customer")));
        Assert.NotEmpty(auto);
        Assert.All(auto, r => Assert.Equal(0, (int)r["channel"]!));
        Assert.All(auto, r => Assert.Null(r["speaker_role"]));
        Assert.All(auto, r => Assert.False((bool)r["overlap"]!));

        var split = Rows(await ProcessAsync("split", [stereo], ("EmotionBatch:Decoder:Channels", "Split")));
        Assert.Equal(2 * auto.Count, split.Count);
        Assert.Equal(auto.Count, split.Count(r => (int)r["channel"]! == 1));
    }

    private async Task<string> ProcessAsync(string name, string[] recordings, params (string Key, string Value)[] extra)
    {
        var input = _temp.File(name + "-in");
        Directory.CreateDirectory(input);
        foreach (var recording in recordings)
        {
            var copy = Path.Combine(input, Path.GetFileName(recording));
            File.Copy(recording, copy);
            File.SetLastWriteTimeUtc(copy, File.GetLastWriteTimeUtc(recording));
        }
        var output = _temp.File(name + "-out");
        var settings = WorkerHarness.BaseSettings(_temp.File(name + "-work"));
        settings["EmotionBatch:Source:Kind"] = "Local";
        settings["EmotionBatch:Source:LocalPath"] = input;
        settings["EmotionBatch:Output:Kind"] = "Local";
        settings["EmotionBatch:Output:LocalPath"] = output;
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }
        var pass = await WorkerHarness.RunPassAsync(settings);
        Assert.Equal(recordings.Length, pass.Completed);
        return output;
    }

    private List<IReadOnlyDictionary<string, object?>> Rows(string output)
    {
        var rows = DuckDbParquet.ReadRows(Path.Combine(output, "utterances", "**", "*.parquet"), orderBy: "utterance_index").ToList();
        foreach (var row in rows)
        {
            log.WriteLine(Describe(row));
        }
        return rows;
    }

    private static string Describe(IReadOnlyDictionary<string, object?> row) => string.Create(CultureInfo.InvariantCulture,
        $"#{row["utterance_index"]} ch{row["channel"]} {row["speaker_role"] ?? "-"} {(double)row["start_seconds"]!:0.00}-{(double)row["end_seconds"]!:0.00} overlap={row["overlap"]} {row["emotion"]}");

    /// <summary>A samples/queries file, unchanged but for its 'out/' folder, run by DuckDB on <paramref name="output"/>.</summary>
    private static IReadOnlyList<IReadOnlyDictionary<string, object?>> SampleQuery(string file, string output)
    {
        var sql = File.ReadAllText(Path.Combine(RepoPaths.Root, "samples", "queries", file));
        return DuckDbParquet.Query(sql.Replace("'out/", "'" + output + "/", StringComparison.Ordinal));
    }

    private static async Task FfmpegAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true };
        foreach (var argument in new[] { "-y", "-loglevel", "error" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        using var ffmpeg = Process.Start(start)!;
        var errors = await ffmpeg.StandardError.ReadToEndAsync();
        await ffmpeg.WaitForExitAsync();
        Assert.True(ffmpeg.ExitCode == 0, errors);
    }
}

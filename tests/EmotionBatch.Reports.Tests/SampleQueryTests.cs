using EmotionBatch.Datasets;
using EmotionBatch.Testing;

namespace EmotionBatch.Reports.Tests;

/// <summary>Runs every samples/queries/*.sql file, unchanged, through DuckDB against a generated output folder.</summary>
public sealed class SampleQueryTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string[]> ExpectedColumns = new()
    {
        ["emotion-share-per-recording.sql"] =
            ["recording_id", "utterances", "speech_seconds", "share_angry", "share_happy", "share_sad", "share_neutral", "mean_valence", "mean_arousal", "model"],
        ["valence-over-time.sql"] =
            ["date", "recordings", "utterances", "speech_minutes", "mean_valence", "mean_arousal", "share_negative"],
        ["most-negative-segments.sql"] =
            ["recording_id", "utterance_index", "at", "start_seconds", "end_seconds", "emotion", "valence", "arousal", "p_negative", "transcript"],
        ["errors.sql"] =
            ["recording_id", "etag", "stage", "reason", "attempts", "will_retry", "last_failed_at"],
        ["summaries.sql"] =
            ["recording_id", "duration_seconds", "speech_share", "utterances", "dominant_emotion", "share_angry", "share_happy", "share_sad",
             "share_neutral", "mean_valence", "mean_arousal", "model_name", "model_version", "processed_at"],
    };

    private readonly TempFolder _temp = RepoPaths.NewTempFolder("queries");

    public static TheoryData<string> QueryFiles() => new(ExpectedColumns.Keys);

    public async Task InitializeAsync()
    {
        // The queries name 'out/…' relative to where they run; DuckDB resolves that against file_search_path.
        var output = Path.Combine(_temp.Path, "out");
        await TestDatasetWriter.WriteUtterancesAsync(output, SampleDataset.All());
        await TestDatasetWriter.WriteErrorsAsync(output, SampleDataset.Failures());
        await SummaryDatasetBuilder.RebuildAsync(output, output);
    }

    public Task DisposeAsync()
    {
        _temp.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void Every_query_file_is_checked()
    {
        var files = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "samples", "queries"), "*.sql").Select(Path.GetFileName).Order();
        // The call-centre queries need two-channel recordings with roles: they run on the worker's own output of the
        // sample call (EmotionBatch.Worker.Tests, ChannelSplitTests).
        Assert.Equal(ExpectedColumns.Keys.Concat(["agent-angry-share.sql", "customer-valence-fell.sql"]).Order(), files);
    }

    [Theory]
    [MemberData(nameof(QueryFiles))]
    public void Query_returns_rows_with_the_documented_columns(string file)
    {
        var result = RunQuery(file);
        Assert.Equal(ExpectedColumns[file], result.Columns);
        Assert.NotEmpty(result.Rows);
    }

    [Fact]
    public void Emotion_shares_match_the_data()
    {
        var rows = RunQuery("emotion-share-per-recording.sql").Rows.ToDictionary(r => (string)r["recording_id"]!);
        Assert.Equal(5, rows.Count);
        Assert.Equal(1.0, Duck.Double(rows["complaint.mp3"]["share_angry"]));
        Assert.Equal(1.0, Duck.Double(rows["good-news.ogg"]["share_happy"]));
        Assert.Equal("complaint.mp3", RunQuery("emotion-share-per-recording.sql").Rows[0]["recording_id"]);
        foreach (var row in rows.Values)
        {
            var total = new[] { "share_angry", "share_happy", "share_sad", "share_neutral" }.Sum(c => Duck.Double(row[c]));
            Assert.Equal(1.0, total, 2);
        }
    }

    [Fact]
    public void Most_negative_segments_carry_transcripts()
    {
        var rows = RunQuery("most-negative-segments.sql").Rows;
        Assert.Equal(20, rows.Count);
        Assert.Equal("You promised me a refund three times and nothing happened!", rows[0]["transcript"]);
        Assert.True(Duck.Double(rows[0]["valence"]) <= Duck.Double(rows[^1]["valence"]));
    }

    [Fact]
    public void Errors_put_permanent_failures_first()
    {
        var rows = RunQuery("errors.sql").Rows;
        Assert.Equal(2, rows.Count);
        Assert.Equal("corrupt/truncated.mp3", rows[0]["recording_id"]);
        Assert.Equal(false, rows[0]["will_retry"]);
        Assert.Equal("decode", rows[0]["stage"]);
    }

    [Fact]
    public void Summaries_list_every_recording_once()
    {
        var rows = RunQuery("summaries.sql").Rows;
        Assert.Equal(5, rows.Count);
        Assert.Equal("complaint.mp3", rows[0]["recording_id"]);
        Assert.Equal("angry", rows[0]["dominant_emotion"]);
        Assert.Equal("sad", rows.Single(r => (string)r["recording_id"]! == "bad-news.m4a")["dominant_emotion"]);
    }

    private Duck.Result RunQuery(string file) =>
        Duck.Query(File.ReadAllText(Path.Combine(RepoPaths.Root, "samples", "queries", file)), _temp.Path);
}

using EmotionBatch.Datasets;
using EmotionBatch.Testing;

namespace EmotionBatch.Reports.Tests;

[Trait("Category", "Fast")]
public sealed class SummaryParquetTests
{
    [Fact]
    public async Task DuckDB_reads_the_summaries_with_the_expected_values()
    {
        using var temp = RepoPaths.NewTempFolder("summary-parquet");
        var known = RecordingSummary.From(RecordingSummaryTests.Known, 20.0);
        var quiet = RecordingSummary.ForNoSpeech("quiet.wav", "file:///r/quiet.wav", "e9", 30, "emotionbatch-default", "1.0.0", known.ProcessedAtUtc);
        var path = temp.File("summaries.parquet");
        await AtomicFile.WriteAsync(path, (stream, token) => SummaryParquet.WriteAsync([known, quiet], stream, token), CancellationToken.None);

        var result = Duck.Query($"SELECT * FROM read_parquet('{path}') ORDER BY recording_id");

        Assert.Equal(
            ["recording_id", "recording_uri", "etag", "duration_seconds", "speech_seconds", "speech_share", "utterances", "dominant_emotion",
             "share_angry", "share_happy", "share_sad", "share_neutral", "mean_valence", "mean_arousal", "model_name", "model_version", "processed_at"],
            result.Columns);
        Assert.Equal(2, result.Rows.Count);
        var q = result.Rows[0];
        Assert.Equal("quiet.wav", q["recording_id"]);
        Assert.Null(q["dominant_emotion"]);
        Assert.Null(q["mean_valence"]);
        var r = result.Rows[1];
        Assert.Equal("rec.wav", r["recording_id"]);
        Assert.Equal("e1", r["etag"]);
        Assert.Equal(20.0, Duck.Double(r["duration_seconds"]));
        Assert.Equal(7.5, Duck.Double(r["speech_seconds"]), 9);
        Assert.Equal(0.375, Duck.Double(r["speech_share"]), 9);
        Assert.Equal(4, Convert.ToInt32(r["utterances"]));
        Assert.Equal("happy", r["dominant_emotion"]);
        Assert.Equal(0.4, Duck.Double(r["share_angry"]), 5);
        Assert.Equal(3.5 / 7.5, Duck.Double(r["share_happy"]), 5);
        Assert.Equal(0.1 / 7.5, Duck.Double(r["mean_valence"]), 5);
        Assert.Equal(3.4 / 7.5, Duck.Double(r["mean_arousal"]), 5);
        Assert.Equal("1.0.0", r["model_version"]);

        // processed_at is a UTC instant (TIMESTAMP WITH TIME ZONE), not a local wall-clock time.
        var types = Duck.Query($"SELECT typeof(processed_at) AS t, epoch_ms(processed_at) AS ms, typeof(utterances) AS u, typeof(share_angry) AS f FROM read_parquet('{path}') LIMIT 1");
        Assert.Equal("TIMESTAMP WITH TIME ZONE", types.Rows[0]["t"]);
        Assert.Equal(new DateTimeOffset(known.ProcessedAtUtc).ToUnixTimeMilliseconds(), Convert.ToInt64(types.Rows[0]["ms"]));
        Assert.Equal("INTEGER", types.Rows[0]["u"]);
        Assert.Equal("FLOAT", types.Rows[0]["f"]);
    }

    [Fact]
    public async Task Round_trips_through_its_own_reader()
    {
        var summaries = new[] { RecordingSummary.From(RecordingSummaryTests.Known, null) };
        using var stream = new MemoryStream();
        await SummaryParquet.WriteAsync(summaries, stream, CancellationToken.None);
        stream.Position = 0;
        var back = await SummaryParquet.ReadAsync(stream, CancellationToken.None);
        Assert.Equal(summaries, back);
    }

    [Fact]
    public void Path_is_partitioned_by_day_and_named_by_recording_version()
    {
        var summary = RecordingSummary.From(RecordingSummaryTests.Known, null);
        var path = SummaryParquet.RelativePath(summary);
        var key = new EmotionBatch.Core.RecordingKey(
            EmotionBatch.Core.Hashing.ShortHex("rec.wav"), EmotionBatch.Core.Hashing.ShortHex("rec.wav\ne1"));
        Assert.Equal($"summaries/date=2026-11-24/{key}.parquet", path);
    }
}

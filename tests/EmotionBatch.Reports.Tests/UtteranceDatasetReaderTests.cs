using EmotionBatch.Core;
using EmotionBatch.Datasets;
using EmotionBatch.Testing;

namespace EmotionBatch.Reports.Tests;

[Trait("Category", "Fast")]
public sealed class UtteranceDatasetReaderTests
{
    [Fact]
    public async Task Reads_every_row_back_as_written()
    {
        using var temp = RepoPaths.NewTempFolder("reader");
        var rows = SampleDataset.All();
        await TestDatasetWriter.WriteUtterancesAsync(temp.Path, rows);

        var read = await new UtteranceDatasetReader(temp.Path).ReadAsync();

        Assert.Equal(rows.Count, read.Count);
        var expected = rows.OrderBy(r => r.RecordingId, StringComparer.Ordinal).ThenBy(r => r.UtteranceIndex).ToList();
        var actual = read.OrderBy(r => r.RecordingId, StringComparer.Ordinal).ThenBy(r => r.UtteranceIndex).ToList();
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], actual[i]);
            Assert.Equal(DateTimeKind.Utc, actual[i].ProcessedAtUtc.Kind);
        }
    }

    [Fact]
    public async Task Filters_by_recording_id_whatever_the_file_names()
    {
        using var temp = RepoPaths.NewTempFolder("reader-filter");
        await TestDatasetWriter.WriteUtterancesAsync(temp.Path, SampleDataset.All());
        // A file not named by recording key, holding two recordings: it must be opened and filtered row by row.
        var mixed = SampleDataset.All().Where(r => r.RecordingId is "complaint.mp3" or "good-news.ogg").ToList();
        await TestDatasetWriter.WriteUtteranceFileAsync(Path.Combine(temp.Path, "utterances", "date=2026-11-25", "manual-export.parquet"), mixed);

        var complaint = await new UtteranceDatasetReader(temp.Path).ReadAsync("complaint.mp3");

        Assert.Equal(6, complaint.Count);
        Assert.All(complaint, row => Assert.Equal("complaint.mp3", row.RecordingId));
        Assert.Empty(await new UtteranceDatasetReader(Path.Combine(temp.Path, "utterances")).ReadAsync("no-such-recording.wav"));
    }

    [Fact]
    public async Task Latest_versions_drop_older_etags_and_duplicate_partitions()
    {
        using var temp = RepoPaths.NewTempFolder("reader-versions");
        var current = SampleDataset.All().Where(r => r.RecordingId == "good-news.ogg").ToList();
        var older = current.Select(r => r with { ETag = "old-etag", Emotion = EmotionLabels.Sad, ProcessedAtUtc = r.ProcessedAtUtc.AddDays(-3) }).ToList();
        var rerun = current.Select(r => r with { ProcessedAtUtc = r.ProcessedAtUtc.AddDays(1) }).ToList();
        await TestDatasetWriter.WriteUtterancesAsync(temp.Path, [.. current, .. older, .. rerun]);

        var all = await new UtteranceDatasetReader(temp.Path).ReadAsync();
        var latest = UtteranceDataset.LatestVersions(all);

        Assert.Equal(9, all.Count);
        Assert.Equal(3, latest.Count);
        Assert.All(latest, row => Assert.Equal(current[0].ETag, row.ETag));
        Assert.All(latest, row => Assert.Equal(current[0].ProcessedAtUtc.AddDays(1), row.ProcessedAtUtc));
        Assert.Equal(2, UtteranceDataset.ByVersion(all).Count);
    }

    [Fact]
    public async Task The_VAD_threshold_round_trips_and_files_written_before_it_read_as_unknown()
    {
        using var temp = RepoPaths.NewTempFolder("reader-vad");
        var rows = SampleDataset.All().Where(r => r.RecordingId == "complaint.mp3").ToList();
        var marked = rows.Select((r, i) => r with { VadThreshold = i == 0 ? 0.2f : 0.5f }).ToList();
        var path = temp.File("current.parquet");
        await TestDatasetWriter.WriteUtteranceFileAsync(path, marked);

        Assert.Equal(marked.OrderBy(r => r.UtteranceIndex), (await new UtteranceDatasetReader(path).ReadAsync()).OrderBy(r => r.UtteranceIndex));
        // An independent reader sees the column as written: fallback rows filter out by it.
        Assert.Equal(marked.Count - 1, Convert.ToInt32(DuckDbParquet.Query(
            $"SELECT count(*) AS n FROM {DuckDbParquet.Source(path)} WHERE coalesce(vad_threshold, 0.5) >= 0.5")[0]["n"]));

        TestDatasetWriter.DropVadThresholdColumn(path);
        var legacy = await new UtteranceDatasetReader(path).ReadAsync();
        Assert.DoesNotContain(DuckDbParquet.Describe(path), column => column.Name == "vad_threshold");
        Assert.All(legacy, row => Assert.Null(row.VadThreshold));
        Assert.Equal(rows.OrderBy(r => r.UtteranceIndex), legacy.OrderBy(r => r.UtteranceIndex));
    }

    [Fact]
    public async Task Files_written_before_the_channel_columns_read_as_one_mixed_stream()
    {
        using var temp = RepoPaths.NewTempFolder("reader-legacy");
        var rows = SampleDataset.All().Where(r => r.RecordingId == "complaint.mp3").ToList();
        var split = rows.Select((r, i) => r with { Channel = i % 2, SpeakerRole = i % 2 == 0 ? "agent" : "customer", Overlap = true }).ToList();
        var path = temp.File("legacy.parquet");
        await TestDatasetWriter.WriteUtteranceFileAsync(path, split);
        TestDatasetWriter.DropChannelColumns(path);

        var read = await new UtteranceDatasetReader(path).ReadAsync();

        Assert.DoesNotContain(DuckDbParquet.Describe(path), column => column.Name == "channel");
        Assert.Equal(rows.OrderBy(r => r.UtteranceIndex), read.OrderBy(r => r.UtteranceIndex));
        Assert.All(read, row => Assert.True(row is { Channel: 0, SpeakerRole: null, Overlap: false }));
    }

    [Fact]
    public async Task Missing_dataset_says_where_it_looked()
    {
        using var temp = RepoPaths.NewTempFolder("reader-missing");
        var error = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => new UtteranceDatasetReader(temp.File("nowhere")).ReadAsync());
        Assert.Contains("nowhere", error.Message);
    }
}

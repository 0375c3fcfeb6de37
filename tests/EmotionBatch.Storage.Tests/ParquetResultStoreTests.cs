using EmotionBatch.Core;
using EmotionBatch.Testing;

namespace EmotionBatch.Storage.Tests;

/// <summary>The same behaviour on both backends: everything is checked through DuckDB, not through the writer.</summary>
public abstract class ParquetResultStoreTests : IDisposable
{
    private readonly List<TempFolder> _folders = [];

    /// <summary>A fresh, empty store.</summary>
    protected abstract ParquetResultStore CreateStore(TimeProvider? time = null);

    /// <summary>Copies what the store holds now into a local folder that DuckDB can read.</summary>
    private async Task<string> SnapshotAsync(ParquetResultStore store)
    {
        var folder = NewFolder("snapshot");
        await foreach (var name in store.Store.ListAsync(string.Empty, default))
        {
            var target = Path.Combine(folder, name.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await File.WriteAllBytesAsync(target, (await store.Store.TryGetAsync(name, default))!);
        }
        return folder;
    }

    protected string NewFolder(string label)
    {
        var folder = RepoPaths.NewTempFolder(label);
        _folders.Add(folder);
        return folder.Path;
    }

    private static string Utterances(string root) => Path.Combine(root, "utterances", "**", "*.parquet");

    private static string Errors(string root) => Path.Combine(root, "errors", "**", "*.parquet");

    [Fact]
    public async Task Committed_output_reads_back_through_the_dataset_contract_and_summarize_replaces_its_summaries()
    {
        var store = CreateStore();
        var recording = Samples.Recording();
        var rows = Samples.Rows(recording, 3);
        await store.CommitAsync(recording, rows, 12.5, default);
        var root = await SnapshotAsync(store);

        var read = await new EmotionBatch.Datasets.UtteranceDatasetReader(root).ReadAsync();
        Assert.Equal(rows.OrderBy(r => r.UtteranceIndex), read.OrderBy(r => r.UtteranceIndex));

        // Rebuilding the summaries of the worker's own output replaces them: still one row per recording version and channel.
        await EmotionBatch.Datasets.SummaryDatasetBuilder.RebuildAsync(root, root);
        Assert.Equal(1, DuckDbParquet.Count(Path.Combine(root, "summaries", "**", "*.parquet")));
        Assert.Equal(1, DuckDbParquet.Count(Path.Combine(root, "channel_summaries", "**", "*.parquet")));
        var summary = Assert.Single(await EmotionBatch.Datasets.SummaryDatasetBuilder.ReadAllAsync(root));
        Assert.Equal(12.5, summary.DurationSeconds);
    }

    [Fact]
    public async Task Committed_rows_read_back_with_duckdb_with_snake_case_columns_and_values()
    {
        var store = CreateStore();
        var recording = Samples.Recording();
        // The third utterance as the VAD's fallback pass finds it; the first two without a threshold (as a fake segmenter gives them).
        await store.CommitAsync(recording, [.. Samples.Rows(recording, 3).Select((r, i) => i == 2 ? r with { VadThreshold = 0.2f } : r)], default);
        var root = await SnapshotAsync(store);

        var columns = DuckDbParquet.Describe(Utterances(root));
        Assert.Equal(
            ["recording_id", "recording_uri", "etag", "utterance_index", "start_seconds", "end_seconds", "transcript", "language",
             "emotion", "p_angry", "p_happy", "p_sad", "p_neutral", "valence", "arousal", "text_used", "model_name", "model_version", "processed_at",
             "channel", "speaker_role", "overlap", "vad_threshold"],
            columns.Select(c => c.Name));
        Assert.Equal(["INTEGER", "DOUBLE", "FLOAT", "BOOLEAN", "TIMESTAMP WITH TIME ZONE", "FLOAT"],
            new[] { "utterance_index", "start_seconds", "p_angry", "text_used", "processed_at", "vad_threshold" }.Select(n => columns.Single(c => c.Name == n).Type));

        var rows = DuckDbParquet.ReadRows(Utterances(root), orderBy: "utterance_index");
        Assert.Equal(3, rows.Count);
        var first = rows[0];
        Assert.Equal(recording.Id, first["recording_id"]);
        Assert.Equal(recording.Uri.ToString(), first["recording_uri"]);
        Assert.Equal(recording.ETag, first["etag"]);
        Assert.Equal(0, first["utterance_index"]);
        Assert.Null(first["transcript"]);
        Assert.Null(first["language"]);
        Assert.Equal(false, first["text_used"]);
        // A mixed recording: channel 0, no role, never overlapping.
        Assert.Equal(0, first["channel"]);
        Assert.Null(first["speaker_role"]);
        Assert.Equal(false, first["overlap"]);
        Assert.Null(first["vad_threshold"]);
        Assert.Equal(0.2f, Convert.ToSingle(rows[2]["vad_threshold"]));
        Assert.Equal("2026-11-03", DateOnlyText(first["date"]));
        var second = rows[1];
        Assert.Equal(2.5, second["start_seconds"]);
        Assert.Equal(4.25, second["end_seconds"]);
        Assert.Equal("utterance 1", second["transcript"]);
        Assert.Equal("en", second["language"]);
        Assert.Equal("happy", second["emotion"]);
        Assert.Equal(0.6f, second["p_happy"]);
        Assert.Equal(-0.25f, second["arousal"]);
        Assert.Equal(true, second["text_used"]);
        Assert.Equal("emotion-test", second["model_name"]);
        Assert.Equal("1.2.3", second["model_version"]);
        Assert.Equal(new DateTime(2026, 11, 24, 8, 30, 15, 123, DateTimeKind.Utc), ToUtc(second["processed_at"]));

        Assert.Equal(new RecordingState(RecordingStatus.Completed, 0, null), await store.GetStateAsync(recording, default));
        Assert.Equal(new RecordingState(RecordingStatus.New, 0, null), await store.GetStateAsync(Samples.Recording("other.wav"), default));
    }

    [Fact]
    public async Task A_crashed_commit_then_a_new_modified_time_on_the_same_content_leaves_one_file()
    {
        var store = CreateStore();
        var recording = Samples.Recording() with { LastModified = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero) };
        await store.CommitAsync(recording, Samples.Rows(recording, 4), default);
        // What a kill between writing the rows and the done record leaves: the announcement and the files, no done record.
        await store.Store.DeleteAsync(ParquetResultStore.DoneName(recording.Key), default);

        var touched = recording with { LastModified = new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero) };
        Assert.Equal(recording.Key, touched.Key);
        Assert.Equal(RecordingStatus.New, (await store.GetStateAsync(touched, default)).Status);
        await store.CommitAsync(touched, Samples.Rows(touched, 4), default);

        var root = await SnapshotAsync(store);
        Assert.Equal(4, DuckDbParquet.Count(Utterances(root)));
        var files = Directory.GetFiles(Path.Combine(root, "utterances"), "*.parquet", SearchOption.AllDirectories);
        Assert.Contains("date=2026-12-03", Assert.Single(files), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.Combine(root, "summaries"), "*.parquet", SearchOption.AllDirectories));
        Assert.Single(Directory.GetFiles(Path.Combine(root, "channel_summaries"), "*.parquet", SearchOption.AllDirectories));

        // A later content change removes the version it replaces, wherever its file was, summaries included.
        var changed = touched with { ETag = "another-content" };
        await store.CommitAsync(changed, Samples.Rows(changed, 2), default);
        root = await SnapshotAsync(store);
        Assert.Equal(2, DuckDbParquet.Count(Utterances(root)));
        Assert.Equal(1, DuckDbParquet.Count(Path.Combine(root, "summaries", "**", "*.parquet")));
        Assert.Equal(1, DuckDbParquet.Count(Path.Combine(root, "channel_summaries", "**", "*.parquet")));
        Assert.Equal(changed.ETag, DuckDbParquet.ReadRows(Path.Combine(root, "channel_summaries", "**", "*.parquet")).Single()["etag"]);
    }

    [Fact]
    public async Task A_crashed_commit_whose_version_then_fails_leaves_no_rows_in_its_old_partition()
    {
        var store = CreateStore();
        var recording = Samples.Recording() with { LastModified = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero) };
        await store.CommitAsync(recording, Samples.Rows(recording, 3), default);
        await store.Store.DeleteAsync(ParquetResultStore.DoneName(recording.Key), default);

        var touched = recording with { LastModified = new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero) };
        await store.RecordFailureAsync(touched, new FailureRow(touched.Id, touched.Uri.ToString(), touched.ETag, "decode", "broken", 1, false, DateTime.UtcNow), default);

        var root = await SnapshotAsync(store);
        Assert.False(Directory.Exists(Path.Combine(root, "utterances")) &&
            Directory.GetFiles(Path.Combine(root, "utterances"), "*.parquet", SearchOption.AllDirectories).Length > 0);
    }

    [Fact]
    public async Task Committing_the_same_version_again_keeps_one_copy()
    {
        var store = CreateStore();
        var recording = Samples.Recording();
        await store.CommitAsync(recording, Samples.Rows(recording, 4), default);
        await store.CommitAsync(recording, Samples.Rows(recording, 4), default);

        var root = await SnapshotAsync(store);
        Assert.Equal(4, DuckDbParquet.Count(Utterances(root)));
        Assert.Single(Directory.GetFiles(Path.Combine(root, "utterances"), "*.parquet", SearchOption.AllDirectories));
        Assert.Single(Directory.GetFiles(Path.Combine(root, "_state", "done"), "*.json", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_new_version_replaces_the_rows_of_the_old_one_and_other_recordings_are_untouched()
    {
        var store = CreateStore();
        var old = Samples.Recording(etag: "\"v1\"");
        var bystander = Samples.Recording("calls/other.wav");
        await store.CommitAsync(old, Samples.Rows(old, 3, EmotionLabels.Sad), default);
        await store.CommitAsync(bystander, Samples.Rows(bystander, 2), default);

        var changed = Samples.Recording(etag: "\"v2\"", lastModified: Samples.LastModified.AddDays(2));
        await store.CommitAsync(changed, Samples.Rows(changed, 2, EmotionLabels.Angry), default);

        var root = await SnapshotAsync(store);
        var rows = DuckDbParquet.Query(
            $"SELECT etag, emotion, count(*) AS n FROM {DuckDbParquet.Source(Utterances(root))} WHERE recording_id = '{old.Id}' GROUP BY ALL");
        var only = Assert.Single(rows);
        Assert.Equal("\"v2\"", only["etag"]);
        Assert.Equal("angry", only["emotion"]);
        Assert.Equal(2L, Convert.ToInt64(only["n"]));
        Assert.Equal(4, DuckDbParquet.Count(Utterances(root)));
        Assert.Equal(RecordingStatus.New, (await store.GetStateAsync(old, default)).Status);
        Assert.Equal(RecordingStatus.Completed, (await store.GetStateAsync(changed, default)).Status);
        Assert.Equal(RecordingStatus.Completed, (await store.GetStateAsync(bystander, default)).Status);
    }

    [Fact]
    public async Task A_recording_without_utterances_is_completed_without_a_file_and_drops_earlier_rows()
    {
        var store = CreateStore();
        var recording = Samples.Recording();
        await store.CommitAsync(recording, Samples.Rows(recording, 2), default);
        await store.CommitAsync(recording, [], default);

        Assert.Equal(RecordingStatus.Completed, (await store.GetStateAsync(recording, default)).Status);
        var root = await SnapshotAsync(store);
        Assert.Equal(0, DuckDbParquet.Count(Utterances(root)));
        Assert.False(Directory.Exists(Path.Combine(root, "utterances")) && Directory.GetFiles(Path.Combine(root, "utterances"), "*", SearchOption.AllDirectories).Length > 0);
    }

    [Fact]
    public async Task Failures_back_off_exponentially_then_become_permanent_and_land_in_the_errors_dataset()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero));
        var store = CreateStore(clock);
        var recording = Samples.Recording();

        await store.RecordFailureAsync(recording, Samples.Failure(recording), default);
        Assert.Equal(new RecordingState(RecordingStatus.FailedRetryable, 1, clock.Now.AddMinutes(1)), await store.GetStateAsync(recording, default));

        clock.Now = clock.Now.AddMinutes(5);
        await store.RecordFailureAsync(recording, Samples.Failure(recording), default);
        Assert.Equal(new RecordingState(RecordingStatus.FailedRetryable, 2, clock.Now.AddMinutes(2)), await store.GetStateAsync(recording, default));

        await store.RecordFailureAsync(recording, Samples.Failure(recording), default);
        Assert.Equal(new RecordingState(RecordingStatus.FailedPermanently, 3, null), await store.GetStateAsync(recording, default));

        var root = await SnapshotAsync(store);
        Assert.Equal(["recording_id", "recording_uri", "etag", "stage", "reason", "attempt", "will_retry", "failed_at"],
            DuckDbParquet.Describe(Errors(root)).Select(c => c.Name));
        var errors = DuckDbParquet.ReadRows(Errors(root), orderBy: "attempt");
        Assert.Equal([1, 2, 3], errors.Select(e => (int)e["attempt"]!));
        Assert.Equal([true, true, false], errors.Select(e => (bool)e["will_retry"]!));
        Assert.All(errors, e => Assert.Equal("decode", e["stage"]));
        Assert.All(errors, e => Assert.Equal("decoder exited with code 1", e["reason"]));
        Assert.All(errors, e => Assert.Equal("2026-11-03", DateOnlyText(e["date"])));
        Assert.Equal(new DateTime(2026, 11, 24, 9, 0, 0, DateTimeKind.Utc), ToUtc(errors[0]["failed_at"]));

        // The same content changed: a new version starts from scratch.
        var changed = Samples.Recording(etag: "\"0x2\"");
        Assert.Equal(RecordingStatus.New, (await store.GetStateAsync(changed, default)).Status);
    }

    [Fact]
    public async Task A_non_retryable_failure_is_permanent_at_once_and_a_later_commit_wins()
    {
        var store = CreateStore();
        var recording = Samples.Recording();
        await store.RecordFailureAsync(recording, Samples.Failure(recording, retryable: false), default);
        Assert.Equal(new RecordingState(RecordingStatus.FailedPermanently, 1, null), await store.GetStateAsync(recording, default));

        var other = Samples.Recording("b.wav");
        await store.RecordFailureAsync(other, Samples.Failure(other), default);
        await store.CommitAsync(other, Samples.Rows(other, 1), default);
        Assert.Equal(RecordingStatus.Completed, (await store.GetStateAsync(other, default)).Status);
    }

    private static DateTime ToUtc(object? value) => value switch
    {
        DateTimeOffset offset => offset.UtcDateTime,
        DateTime time => time.ToUniversalTime(),
        _ => throw new InvalidOperationException($"Unexpected timestamp type {value?.GetType()}"),
    };

    private static string DateOnlyText(object? value) => value switch
    {
        DateOnly date => date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        DateTime time => time.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
    };

    public void Dispose()
    {
        foreach (var folder in _folders)
        {
            folder.Dispose();
        }
        GC.SuppressFinalize(this);
    }
}

public sealed class LocalParquetResultStoreTests : ParquetResultStoreTests
{
    protected override ParquetResultStore CreateStore(TimeProvider? time = null) =>
        ParquetResultStore.ForLocalFolder(NewFolder("out"), timeProvider: time);

    [Fact]
    public async Task The_local_layout_is_readable_in_place()
    {
        var root = NewFolder("out");
        var store = ParquetResultStore.ForLocalFolder(root);
        var recording = Samples.Recording();
        await store.CommitAsync(recording, Samples.Rows(recording, 2), default);

        var key = recording.Key;
        Assert.True(File.Exists(Path.Combine(root, "utterances", "date=2026-11-03", $"{key.IdHash}-{key.VersionHash}.parquet")));
        Assert.True(File.Exists(Path.Combine(root, "_state", "done", key.IdHash, $"{key.VersionHash}.json")));
        var counts = DuckDbParquet.Query(
            $"SELECT emotion, count(*) AS n FROM read_parquet('{root}/utterances/**/*.parquet', hive_partitioning=true) GROUP BY 1");
        Assert.Equal("happy", Assert.Single(counts)["emotion"]);
        Assert.DoesNotContain(Directory.GetFiles(root, "*", SearchOption.AllDirectories), f => Path.GetFileName(f).StartsWith(".tmp-", StringComparison.Ordinal));
    }
}

[Collection(AzuriteCollection.Name)]
public sealed class BlobParquetResultStoreTests(AzuriteFixture azurite) : ParquetResultStoreTests
{
    protected override ParquetResultStore CreateStore(TimeProvider? time = null)
    {
        // The store creates its container on first write.
        var container = new Azure.Storage.Blobs.BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(AzuriteFixture.NewContainerName("out"));
        return ParquetResultStore.ForBlobContainer(container, prefix: "datasets/emotion", timeProvider: time);
    }

    [Fact]
    public async Task Datasets_live_under_the_prefix_and_an_unwritten_container_reads_as_empty()
    {
        var container = new Azure.Storage.Blobs.BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(AzuriteFixture.NewContainerName("out"));
        var store = ParquetResultStore.ForBlobContainer(container, prefix: "datasets/emotion");
        var recording = Samples.Recording();
        Assert.Equal(RecordingStatus.New, (await store.GetStateAsync(recording, default)).Status);

        await store.CommitAsync(recording, Samples.Rows(recording, 1), default);

        var names = new List<string>();
        await foreach (var blob in container.GetBlobsAsync())
        {
            names.Add(blob.Name);
        }
        Assert.Contains($"datasets/emotion/utterances/date=2026-11-03/{recording.Key}.parquet", names);
        Assert.Contains($"datasets/emotion/_state/done/{recording.Key.IdHash}/{recording.Key.VersionHash}.json", names);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, store.Description, StringComparison.Ordinal);
    }
}

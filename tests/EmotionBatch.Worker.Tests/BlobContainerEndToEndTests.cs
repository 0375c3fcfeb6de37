using Azure.Storage.Blobs;
using EmotionBatch.Testing;
using Xunit;

namespace EmotionBatch.Worker.Tests;

/// <summary>
/// The product's main path against a real blob emulator: recordings uploaded to a container become Parquet rows,
/// read back by DuckDB; bad recordings land in the errors dataset without stopping the batch; reruns add nothing;
/// a changed blob replaces its rows.
/// </summary>
public sealed class BlobContainerEndToEndTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("worker-e2e");

    public BlobContainerEndToEndTests(AzuriteFixture azurite) => _azurite = azurite;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Container_of_recordings_becomes_parquet_rows_once_and_changed_blobs_replace_their_rows()
    {
        var container = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("calls"));
        await container.CreateAsync();

        // Two real-speech recordings in different formats, one corrupt file, one silent file, one ignored extension.
        var mp3 = await TestAudio.ConvertAsync(RepoPaths.JfkWav, _temp.File("jfk.mp3"), sampleRate: 44_100, channels: 2);
        var silence = await TestAudio.SilenceAsync(_temp.File("silence.wav"), seconds: 3);
        await container.UploadBlobAsync("2026/11/jfk.wav", File.OpenRead(RepoPaths.JfkWav));
        await container.UploadBlobAsync("2026/11/jfk-stereo.mp3", File.OpenRead(mp3));
        await container.UploadBlobAsync("2026/11/corrupt.wav", new BinaryData(RandomBytes(20_000)));
        await container.UploadBlobAsync("2026/11/silence.wav", File.OpenRead(silence));
        await container.UploadBlobAsync("2026/11/notes.txt", new BinaryData("not audio"u8.ToArray()));

        var output = _temp.File("out");
        var settings = WorkerHarness.BaseSettings(_temp.File("work"));
        settings["EmotionBatch:Source:Kind"] = "Blob";
        settings["EmotionBatch:Source:ConnectionString"] = _azurite.ConnectionString;
        settings["EmotionBatch:Source:ContainerName"] = container.Name;
        settings["EmotionBatch:Source:Prefix"] = "2026/";
        settings["EmotionBatch:Output:Kind"] = "Local";
        settings["EmotionBatch:Output:LocalPath"] = output;

        var first = await WorkerHarness.RunPassAsync(settings);
        Assert.Equal(4, first.Listed);
        Assert.Equal(2, first.Completed);
        // corrupt.wav fails; silence.wav has no speech, an outcome rather than a failure (both get an error row).
        Assert.Equal(1, first.Failed);
        Assert.Equal(1, first.NoSpeech);

        var utterances = Path.Combine(output, "utterances", "**", "*.parquet");
        var rows = DuckDbParquet.ReadRows(utterances, orderBy: "recording_id, utterance_index");
        Assert.Equal(first.Utterances, rows.Count);
        Assert.Equal(["2026/11/jfk-stereo.mp3", "2026/11/jfk.wav"], rows.Select(r => (string)r["recording_id"]!).Distinct().Order().ToArray());
        foreach (var group in rows.GroupBy(r => (string)r["recording_id"]!))
        {
            // jfk.wav holds four phrases separated by pauses; VAD must find speech in each decoded format.
            Assert.InRange(group.Count(), 2, 8);
            Assert.Equal(Enumerable.Range(0, group.Count()), group.Select(r => Convert.ToInt32(r["utterance_index"])));
            foreach (var row in group)
            {
                var start = Convert.ToDouble(row["start_seconds"]);
                var end = Convert.ToDouble(row["end_seconds"]);
                Assert.True(start >= 0 && end > start && end <= 11.5, $"utterance {start}-{end} s is outside the 11 s recording");
                var probabilities = new[] { "p_angry", "p_happy", "p_sad", "p_neutral" }.Select(c => Convert.ToDouble(row[c])).ToArray();
                Assert.Equal(1.0, probabilities.Sum(), 3);
                Assert.Contains((string)row["emotion"]!, new[] { "angry", "happy", "sad", "neutral" });
                Assert.InRange(Convert.ToDouble(row["valence"]), -1.5, 1.5);
                Assert.False((bool)row["text_used"]!); // no speech-recognition model configured: text masked
                Assert.Null(row["transcript"]);
                Assert.StartsWith("http://127.0.0.1:", (string)row["recording_uri"]!);
                Assert.DoesNotContain("AccountKey", (string)row["recording_uri"]!, StringComparison.OrdinalIgnoreCase);
            }
        }

        var errors = DuckDbParquet.ReadRows(Path.Combine(output, "errors", "**", "*.parquet"), orderBy: "recording_id");
        Assert.Equal(["2026/11/corrupt.wav", "2026/11/silence.wav"], errors.Select(r => (string)r["recording_id"]!).ToArray());
        Assert.Contains("speech", (string)errors[1]["reason"]!, StringComparison.OrdinalIgnoreCase);
        Assert.All(errors, e => Assert.False(string.IsNullOrWhiteSpace((string?)e["reason"])));

        // One summary row per completed recording, consistent with its utterance rows.
        var summaries = DuckDbParquet.ReadRows(Path.Combine(output, "summaries", "**", "*.parquet"), orderBy: "recording_id");
        Assert.Equal(["2026/11/jfk-stereo.mp3", "2026/11/jfk.wav"], summaries.Select(r => (string)r["recording_id"]!).ToArray());
        foreach (var summary in summaries)
        {
            Assert.Equal(rows.Count(r => r["recording_id"]!.Equals(summary["recording_id"])), Convert.ToInt32(summary["utterances"]));
            Assert.InRange(Convert.ToDouble(summary["duration_seconds"]), 10.5, 11.5);
            Assert.InRange(Convert.ToDouble(summary["speech_share"]), 0.5, 1.0);
        }

        // A second pass over the same container writes nothing new.
        var second = await WorkerHarness.RunPassAsync(settings);
        Assert.Equal(0, second.Completed);
        // Done recordings are skipped; the two that ended permanently (failed, no speech) are counted as such.
        Assert.Equal(2, second.Skipped);
        Assert.Equal(2, second.FailedEarlier);
        Assert.Equal(rows.Count, DuckDbParquet.Count(utterances));

        // A changed blob (new ETag) is processed again and its old rows are replaced, not duplicated.
        var shorter = _temp.File("jfk-first-half.wav");
        await TestAudio.RunFfmpegAsync(["-i", RepoPaths.JfkWav, "-t", "4.6", shorter]);
        await container.GetBlobClient("2026/11/jfk.wav").UploadAsync(File.OpenRead(shorter), overwrite: true);
        var third = await WorkerHarness.RunPassAsync(settings);
        Assert.Equal(1, third.Completed);
        var after = DuckDbParquet.ReadRows(utterances, orderBy: "recording_id, utterance_index");
        var replaced = after.Where(r => (string)r["recording_id"]! == "2026/11/jfk.wav").ToList();
        Assert.Equal(third.Utterances, replaced.Count);
        Assert.All(replaced, r => Assert.True(Convert.ToDouble(r["end_seconds"]) <= 5.0));
        Assert.Single(replaced.Select(r => (string)r["etag"]!).Distinct());
        // The replaced version's summary went with its rows.
        Assert.Equal(2, DuckDbParquet.Count(Path.Combine(output, "summaries", "**", "*.parquet")));
        Assert.Equal(rows.Count(r => (string)r["recording_id"]! == "2026/11/jfk-stereo.mp3"), after.Count(r => (string)r["recording_id"]! == "2026/11/jfk-stereo.mp3"));
    }

    [Fact]
    public async Task Output_can_go_to_a_blob_container()
    {
        var source = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("in"));
        var target = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("out"));
        await source.CreateAsync();
        await target.CreateAsync();
        await source.UploadBlobAsync("jfk.wav", File.OpenRead(RepoPaths.JfkWav));

        var settings = WorkerHarness.BaseSettings(_temp.File("work"));
        settings["EmotionBatch:Source:Kind"] = "Blob";
        settings["EmotionBatch:Source:ConnectionString"] = _azurite.ConnectionString;
        settings["EmotionBatch:Source:ContainerName"] = source.Name;
        settings["EmotionBatch:Output:Kind"] = "Blob";
        settings["EmotionBatch:Output:ConnectionString"] = _azurite.ConnectionString;
        settings["EmotionBatch:Output:ContainerName"] = target.Name;

        var pass = await WorkerHarness.RunPassAsync(settings);
        Assert.Equal(1, pass.Completed);

        // Download what an analyst would see and read it with DuckDB.
        var downloaded = _temp.File("downloaded");
        var parquetBlobs = 0;
        await foreach (var blob in target.GetBlobsAsync())
        {
            if (!blob.Name.EndsWith(".parquet", StringComparison.Ordinal))
            {
                continue;
            }
            parquetBlobs++;
            var local = Path.Combine(downloaded, blob.Name.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            await target.GetBlobClient(blob.Name).DownloadToAsync(local);
        }
        Assert.Equal(3, parquetBlobs); // the utterances file, the recording's summary and its channel summary
        var rows = DuckDbParquet.ReadRows(Path.Combine(downloaded, "utterances", "**", "*.parquet"));
        Assert.Equal(pass.Utterances, rows.Count);
        Assert.All(rows, r => Assert.Equal("jfk.wav", r["recording_id"]));

        var again = await WorkerHarness.RunPassAsync(settings);
        Assert.Equal(0, again.Completed);
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(1234).NextBytes(bytes);
        return bytes;
    }
}

using System.Diagnostics;
using EmotionBatch.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace EmotionBatch.Reliability.Tests;

[CollectionDefinition(Name)]
public sealed class ReliabilityCollection : ICollectionFixture<SpeechBatchFixture>
{
    public const string Name = "reliability";
}

/// <summary>
/// A small batch of real-speech recordings (cuts of jfk.wav in several formats) and the rows a crash-free worker
/// process makes of them: the expected result every fault-injection test compares against. VAD and the model are
/// deterministic, so the (recording_id, utterance_index) pairs of a clean run are exactly what any run must produce.
/// </summary>
public sealed class SpeechBatchFixture : IAsyncLifetime
{
    private static readonly string[] Formats = [".wav", ".mp3", ".flac", ".ogg", ".m4a", ".wav", ".mp3", ".flac"];

    private readonly TempFolder _temp = RepoPaths.NewTempFolder("reliability-batch");

    public string Folder => _temp.File("recordings");

    /// <summary>Recording ids (file names) in order.</summary>
    public IReadOnlyList<string> Ids { get; private set; } = [];

    /// <summary>Utterance count per recording id of the clean reference run.</summary>
    public IReadOnlyDictionary<string, int> Utterances { get; private set; } = new Dictionary<string, int>();

    /// <summary>Wall time of the clean reference run over the whole batch (start-up included).</summary>
    public TimeSpan ReferenceElapsed { get; private set; }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Folder);
        var ids = new List<string>();
        for (var i = 0; i < Formats.Length; i++)
        {
            var id = $"call-{i + 1:D2}{Formats[i]}";
            var seconds = (3.0 + 0.5 * i).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
            var offset = (0.3 * (i % 4)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
            var cut = _temp.File($"cut-{i}.wav");
            await TestAudio.RunFfmpegAsync(["-ss", offset, "-i", RepoPaths.JfkWav, "-t", seconds, "-c:a", "pcm_s16le", cut]);
            await TestAudio.ConvertAsync(cut, Path.Combine(Folder, id));
            ids.Add(id);
        }
        Ids = ids;

        var output = _temp.File("reference-out");
        var settings = WorkerProcess.BaseSettings(_temp.File("reference-work"));
        settings["EmotionBatch:Source:Kind"] = "Local";
        settings["EmotionBatch:Source:LocalPath"] = Folder;
        settings["EmotionBatch:Output:Kind"] = "Local";
        settings["EmotionBatch:Output:LocalPath"] = output;
        var stopwatch = Stopwatch.StartNew();
        using var worker = WorkerProcess.Start(settings, "run", "--once");
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromMinutes(3)), "reference run did not finish:\n" + worker.Output);
        ReferenceElapsed = stopwatch.Elapsed;

        var counts = DuckDbParquet.Query(
            $"SELECT recording_id, count(*) AS n, count(DISTINCT utterance_index) AS d FROM {DuckDbParquet.Source(Path.Combine(output, "utterances", "**", "*.parquet"))} GROUP BY 1");
        Utterances = counts.ToDictionary(r => (string)r["recording_id"]!, r => Convert.ToInt32(r["n"]));
        Assert.True(ids.All(Utterances.ContainsKey), "every recording of the batch must have speech:\n" + worker.Output);
        Assert.All(counts, r => Assert.Equal(Convert.ToInt64(r["n"]), Convert.ToInt64(r["d"])));
    }

    public int ExpectedRows(IEnumerable<string> ids) => ids.Sum(id => Utterances[id]);

    /// <summary>
    /// Compares the utterances dataset under <paramref name="outputRoot"/> with the reference for <paramref name="ids"/>:
    /// every (recording_id, utterance_index) of the reference exactly once, nothing else.
    /// </summary>
    public RowCheck Check(string outputRoot, IReadOnlyCollection<string> ids)
    {
        var rows = DuckDbParquet.Query(
            $"SELECT recording_id, utterance_index, count(*) AS n FROM {DuckDbParquet.Source(Path.Combine(outputRoot, "utterances", "**", "*.parquet"))} GROUP BY 1, 2",
            emptyWhenNoFiles: true);
        var seen = rows.ToDictionary(r => ((string)r["recording_id"]!, Convert.ToInt32(r["utterance_index"])), r => Convert.ToInt32(r["n"]));
        var expected = ids.SelectMany(id => Enumerable.Range(0, Utterances[id]).Select(index => (id, index))).ToHashSet();
        var lost = expected.Count(key => !seen.ContainsKey(key));
        var duplicated = seen.Where(pair => expected.Contains(pair.Key)).Sum(pair => pair.Value - 1);
        var unexpected = seen.Where(pair => !expected.Contains(pair.Key)).Sum(pair => pair.Value);
        return new RowCheck(expected.Count, seen.Values.Sum(), lost, duplicated, unexpected);
    }

    /// <summary>Uploads the first <paramref name="count"/> recordings under their ids.</summary>
    public async Task UploadAsync(Azure.Storage.Blobs.BlobContainerClient container, int count)
    {
        await container.CreateIfNotExistsAsync();
        foreach (var id in Ids.Take(count))
        {
            await using var stream = File.OpenRead(Path.Combine(Folder, id));
            await container.UploadBlobAsync(id, stream);
        }
    }

    public Task DisposeAsync()
    {
        _temp.Dispose();
        return Task.CompletedTask;
    }
}

public sealed record RowCheck(int Expected, int Found, int Lost, int Duplicated, int Unexpected)
{
    public override string ToString() => $"{Expected} expected, {Found} found, {Lost} lost, {Duplicated} duplicated, {Unexpected} unexpected";
}

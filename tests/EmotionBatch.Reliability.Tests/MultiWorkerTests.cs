using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using EmotionBatch.Testing;

namespace EmotionBatch.Reliability.Tests;

/// <summary>
/// Three worker processes share one source container and one output container. Each recording is processed by one
/// of them; one is killed mid-run, and the others pick up its claimed recording once the lease expires.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed partial class MultiWorkerTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly SpeechBatchFixture _batch;
    private readonly ITestOutputHelper _log;
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("multi");

    public MultiWorkerTests(AzuriteFixture azurite, SpeechBatchFixture batch, ITestOutputHelper log)
    {
        _azurite = azurite;
        _batch = batch;
        _log = log;
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Three_workers_process_each_recording_once_and_finish_the_work_of_one_that_is_killed()
    {
        var source = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("multi-in"));
        var outputs = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("multi-out"));
        await _batch.UploadAsync(source, _batch.Ids.Count);
        var output = OutputView.Blob(outputs, prefix: null);

        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var settings = WorkerProcess.BaseSettings(_temp.File($"work-{i}"));
                settings["EmotionBatch:Source:Kind"] = "Blob";
                settings["EmotionBatch:Source:ConnectionString"] = _azurite.ConnectionString;
                settings["EmotionBatch:Source:ContainerName"] = source.Name;
                settings["EmotionBatch:Output:LeaseDuration"] = "00:00:15";
                // One recording per worker at a time, so the killed worker holds exactly one unfinished claim
                // (with two, it can die between committing one recording and logging it).
                settings["EmotionBatch:Worker:MaxConcurrentRecordings"] = "1";
                settings["Logging:LogLevel:EmotionBatch.Storage"] = "Debug";
                output.Apply(settings, _azurite.ConnectionString);
                workers.Add(WorkerProcess.Start(settings, "run"));
            }

            // Kill the first worker as soon as it has committed one recording and claimed the next.
            var victim = workers[0];
            Assert.True(await victim.WaitForOutputAsync("Completed ", TimeSpan.FromMinutes(2)), victim.Output);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (ClaimedNotCompleted(victim.Output) is null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            await victim.KillAsync();
            var held = ClaimedNotCompleted(victim.Output);
            var killedAt = DateTime.UtcNow;
            _log.WriteLine($"killed worker 0 while it held {held ?? "(nothing)"}");

            var finishDeadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (await output.CountDoneAsync() < _batch.Ids.Count)
            {
                Assert.True(DateTime.UtcNow < finishDeadline, "the survivors did not finish:\n" + workers[1].Output + workers[2].Output);
                await Task.Delay(250);
            }
            var recoveredAfter = DateTime.UtcNow - killedAt;
            Assert.True(workers[1].HasExited == false && workers[2].HasExited == false);
            foreach (var worker in workers.Skip(1))
            {
                await worker.KillAsync();
            }

            var completions = workers.SelectMany((worker, index) => CompletedIds(worker.Output).Select(id => (id, index))).ToList();
            foreach (var (id, index) in completions)
            {
                _log.WriteLine($"{id} completed by worker {index}");
            }
            var perRecording = completions.GroupBy(c => c.id).ToDictionary(g => g.Key, g => g.Count());
            Assert.All(_batch.Ids, id => Assert.Equal(1, perRecording.GetValueOrDefault(id)));
            Assert.True(completions.Select(c => c.index).Distinct().Count() >= 2, "the work was not shared");
            if (held is not null)
            {
                Assert.Contains(completions, c => c.id == held && c.index != 0);
            }

            var check = _batch.Check(await output.MaterializeAsync(_temp.Path), _batch.Ids);
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"MULTI workers=3 recordings={_batch.Ids.Count} killed-holding={held ?? "-"} finished {recoveredAfter.TotalSeconds:F1} s after the kill; {check}; completions per recording: {string.Join(", ", perRecording.Values.Order())}"));
            Assert.Equal(0, check.Lost);
            Assert.Equal(0, check.Duplicated);
            Assert.Equal(0, check.Unexpected);
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }
    }

    /// <summary>The last recording the worker claimed without completing it, if any.</summary>
    private static string? ClaimedNotCompleted(string output)
    {
        var completed = CompletedIds(output).ToHashSet();
        var claimed = ClaimedPattern().Matches(output).Select(m => m.Groups[1].Value).ToList();
        return claimed.LastOrDefault(id => !completed.Contains(id));
    }

    private static IEnumerable<string> CompletedIds(string output) =>
        CompletedPattern().Matches(output).Select(m => m.Groups[1].Value);

    [GeneratedRegex(@"Completed (\S+): \d+ utterances")]
    private static partial Regex CompletedPattern();

    [GeneratedRegex(@"Claimed (\S+) for ")]
    private static partial Regex ClaimedPattern();
}

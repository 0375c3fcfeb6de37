using System.Globalization;
using Azure.Storage.Blobs;
using EmotionBatch.Testing;

namespace EmotionBatch.Reliability.Tests;

/// <summary>
/// kill -9 at random moments, then restart: the final datasets hold every expected utterance exactly once.
/// Rounds alternate between blob output (claims are blob leases, which a dead worker keeps until they expire) and
/// local output (claims are OS file locks, which die with the process).
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class CrashRecoveryTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private const int Seed = 20261125;
    private const int Recordings = 5;
    private const int MinimumKills = 20;
    private const int TrialsPerRound = 8;
    private const int MaximumRounds = 30;

    private readonly AzuriteFixture _azurite;
    private readonly SpeechBatchFixture _batch;
    private readonly ITestOutputHelper _log;
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("crash");

    public CrashRecoveryTests(AzuriteFixture azurite, SpeechBatchFixture batch, ITestOutputHelper log)
    {
        _azurite = azurite;
        _batch = batch;
        _log = log;
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Kill_9_at_random_moments_and_restart_leaves_every_utterance_exactly_once()
    {
        var source = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("crash-in"));
        var outputs = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("crash-out"));
        await _batch.UploadAsync(source, Recordings);
        var ids = _batch.Ids.Take(Recordings).ToList();

        var random = new Random(Seed);
        int trials = 0, kills = 0, partialCommits = 0, rounds = 0, lost = 0, duplicated = 0, unexpected = 0, expected = 0;
        // How long an uninterrupted run of all the recordings takes: first from the fixture's reference run, then from
        // this test's own runs that finished everything, since the machine's load (other test assemblies) changes.
        var fullRun = _batch.ReferenceElapsed * (Recordings / (double)_batch.Ids.Count);

        while (kills < MinimumKills || rounds < 2)
        {
            Assert.True(rounds < MaximumRounds, $"only {kills} kills after {rounds} rounds");
            var blobOutput = rounds % 2 == 0;
            var output = blobOutput ? OutputView.Blob(outputs, $"round{rounds}") : OutputView.Local(_temp.File($"round{rounds}"));
            var settings = Settings(source, output, rounds);

            for (var trial = 0; trial < TrialsPerRound && await output.CountDoneAsync() is var doneBefore && doneBefore < Recordings; trial++)
            {
                trials++;
                // Kills land anywhere from start-up to the end of an uninterrupted run of the recordings still to do,
                // so they keep landing inside the work as a round nears its end.
                var window = fullRun * ((Recordings - doneBefore) / (double)Recordings) + TimeSpan.FromSeconds(1);
                var delay = TimeSpan.FromSeconds(0.3 + random.NextDouble() * (window.TotalSeconds - 0.3));
                using var worker = WorkerProcess.Start(settings, "run", "--once");
                var exited = await worker.WaitForExitAsync(delay);
                var ran = worker.Elapsed;
                if (!exited)
                {
                    await worker.KillAsync();
                    kills++;
                }
                var done = await output.CountDoneAsync();
                var files = (await output.ListAsync("utterances")).Count;
                // More utterance files than done records: the kill landed between writing rows and committing them.
                if (files > done)
                {
                    partialCommits++;
                }
                _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {rounds} ({(blobOutput ? "blob" : "local")} output) trial {trial}: {(exited ? "exited by itself" : "killed")} after {ran.TotalSeconds:F2} s (drawn {delay.TotalSeconds:F2} s); done {done}/{Recordings}, utterance files {files}"));
                if (exited && doneBefore == 0 && done == Recordings)
                {
                    fullRun = ran;
                }
                if (exited && done == doneBefore)
                {
                    // What is left is leased by a killed worker: nothing runs, so nothing can be killed, until the
                    // leases expire; the restarts below wait for that.
                    break;
                }
            }

            await FinishAsync(settings, output);
            var check = _batch.Check(await output.MaterializeAsync(_temp.Path), ids);
            _log.WriteLine($"round {rounds}: {check}");
            expected += check.Expected;
            lost += check.Lost;
            duplicated += check.Duplicated;
            unexpected += check.Unexpected;
            rounds++;
        }

        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CRASH seed={Seed} rounds={rounds} trials={trials} kills={kills} partial-commits-seen={partialCommits} expected-rows={expected} lost={lost} duplicated={duplicated} unexpected={unexpected}"));
        Assert.True(kills >= MinimumKills);
        Assert.Equal(0, lost);
        Assert.Equal(0, duplicated);
        Assert.Equal(0, unexpected);
    }

    private Dictionary<string, string?> Settings(BlobContainerClient source, OutputView output, int round)
    {
        var settings = WorkerProcess.BaseSettings(_temp.File($"work-{round}"));
        settings["EmotionBatch:Source:Kind"] = "Blob";
        settings["EmotionBatch:Source:ConnectionString"] = _azurite.ConnectionString;
        settings["EmotionBatch:Source:ContainerName"] = source.Name;
        settings["EmotionBatch:Output:LeaseDuration"] = "00:00:15";
        output.Apply(settings, _azurite.ConnectionString);
        return settings;
    }

    /// <summary>Restarts until everything is committed; recordings whose lease a killed worker still holds wait for it to expire.</summary>
    private static async Task FinishAsync(Dictionary<string, string?> settings, OutputView output)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (await output.CountDoneAsync() < Recordings)
        {
            Assert.True(DateTime.UtcNow < deadline, "the batch did not complete after the crashes");
            using var worker = WorkerProcess.Start(settings, "run", "--once");
            Assert.True(await worker.WaitForExitAsync(TimeSpan.FromMinutes(2)), worker.Output);
            if (await output.CountDoneAsync() < Recordings)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }
    }
}

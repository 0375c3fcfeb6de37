using System.Globalization;
using Azure.Storage.Blobs;
using EmotionBatch.Testing;

namespace EmotionBatch.Reliability.Tests;

/// <summary>The blob emulator is stopped in the middle of a run and started again: the worker rides it out and finishes.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class StoreOutageTests : IDisposable
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(8);

    private readonly AzuriteFixture _azurite = new();
    private readonly SpeechBatchFixture _batch;
    private readonly ITestOutputHelper _log;
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("outage");

    public StoreOutageTests(SpeechBatchFixture batch, ITestOutputHelper log)
    {
        _batch = batch;
        _log = log;
        _azurite.Start();
    }

    public void Dispose()
    {
        _azurite.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Worker_survives_the_store_going_down_mid_run_and_completes_when_it_returns()
    {
        var source = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("outage-in"));
        var outputs = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("outage-out"));
        await _batch.UploadAsync(source, _batch.Ids.Count);
        var output = OutputView.Blob(outputs, prefix: null);

        var settings = WorkerProcess.BaseSettings(_temp.File("work"));
        settings["EmotionBatch:Source:Kind"] = "Blob";
        settings["EmotionBatch:Source:ConnectionString"] = _azurite.ConnectionString;
        settings["EmotionBatch:Source:ContainerName"] = source.Name;
        settings["EmotionBatch:Output:LeaseDuration"] = "00:00:15";
        foreach (var section in new[] { "Source", "Output" })
        {
            // The SDK pipeline's own retries, shortened so an 8 s outage outlasts them.
            settings[$"EmotionBatch:{section}:MaxRetries"] = "2";
            settings[$"EmotionBatch:{section}:RetryDelay"] = "00:00:00.2";
            settings[$"EmotionBatch:{section}:MaxRetryDelay"] = "00:00:01";
            settings[$"EmotionBatch:{section}:NetworkTimeout"] = "00:00:05";
        }
        output.Apply(settings, _azurite.ConnectionString);

        using var worker = WorkerProcess.Start(settings, "run");
        Assert.True(await worker.WaitForOutputAsync("Completed ", TimeSpan.FromMinutes(2)), worker.Output);
        var doneBefore = await output.CountDoneAsync();

        _azurite.Stop();
        await Task.Delay(Outage);
        Assert.False(worker.HasExited, "the worker died while the store was down:\n" + worker.Output);
        _azurite.Start();
        var restarted = DateTime.UtcNow;

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (await output.CountDoneAsync() < _batch.Ids.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, "the run did not complete after the store came back:\n" + worker.Output);
            Assert.False(worker.HasExited, worker.Output);
            await Task.Delay(250);
        }
        var completedAfter = DateTime.UtcNow - restarted;
        await worker.KillAsync();

        var check = _batch.Check(await output.MaterializeAsync(_temp.Path), _batch.Ids);
        var failedPasses = worker.Output.Split('\n').Count(line => line.Contains("Pass failed", StringComparison.Ordinal));
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"OUTAGE recordings={_batch.Ids.Count} done-before-outage={doneBefore} outage={Outage.TotalSeconds:F0} s failed-passes={failedPasses} completed {completedAfter.TotalSeconds:F1} s after restart; {check}"));
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Duplicated);
        Assert.Equal(0, check.Unexpected);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, worker.Output, StringComparison.Ordinal);
    }
}

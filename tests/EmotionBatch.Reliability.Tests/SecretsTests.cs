using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using EmotionBatch.Testing;

namespace EmotionBatch.Reliability.Tests;

/// <summary>
/// A worker reading through a SAS URI and writing with a connection string, logging at Debug, with a failing
/// recording among good ones: neither the account key nor the SAS signature appears in its output, its ledger or
/// any value of the Parquet datasets.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class SecretsTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly SpeechBatchFixture _batch;
    private readonly ITestOutputHelper _log;
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("secrets");

    public SecretsTests(AzuriteFixture azurite, SpeechBatchFixture batch, ITestOutputHelper log)
    {
        _azurite = azurite;
        _batch = batch;
        _log = log;
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Connection_strings_and_sas_tokens_never_reach_logs_or_datasets()
    {
        var service = new BlobServiceClient(_azurite.ConnectionString);
        var source = service.GetBlobContainerClient(AzuriteFixture.NewContainerName("secret-in"));
        var outputs = service.GetBlobContainerClient(AzuriteFixture.NewContainerName("secret-out"));
        await _batch.UploadAsync(source, 1);
        await source.UploadBlobAsync("broken.mp3", new BinaryData("not audio"u8.ToArray()));

        var sas = service.GenerateAccountSasUri(AccountSasPermissions.Read | AccountSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1), AccountSasResourceTypes.All);
        var signature = System.Web.HttpUtility.ParseQueryString(sas.Query)["sig"]!;
        string[] secrets = [AzuriteFixture.AccountKey, signature, Uri.EscapeDataString(signature)];

        var settings = WorkerProcess.BaseSettings(_temp.File("work"));
        settings["EmotionBatch:Source:Kind"] = "Blob";
        settings["EmotionBatch:Source:ServiceUri"] = sas.ToString();
        settings["EmotionBatch:Source:ContainerName"] = source.Name;
        settings["Logging:LogLevel:Default"] = "Debug";
        settings["Logging:LogLevel:EmotionBatch"] = "Debug";
        OutputView.Blob(outputs, "results").Apply(settings, _azurite.ConnectionString);

        using var worker = WorkerProcess.Start(settings, "run", "--once");
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromMinutes(2)), worker.Output);
        Assert.Contains("2 listed, 1 completed, 1 failed", worker.Output);

        var downloaded = await OutputView.Blob(outputs, "results").MaterializeAsync(_temp.Path);
        var values = new List<string>();
        foreach (var root in new[] { downloaded })
        {
            foreach (var dataset in new[] { "utterances", "errors" })
            {
                var rows = DuckDbParquet.ReadRows(Path.Combine(root, dataset, "**", "*.parquet"));
                Assert.NotEmpty(rows);
                values.AddRange(rows.SelectMany(row => row.Values).OfType<string>());
            }
            values.AddRange(Directory.EnumerateFiles(Path.Combine(root, "_state"), "*.json", SearchOption.AllDirectories).Select(File.ReadAllText));
        }

        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, worker.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(values, value => value.Contains(secret, StringComparison.Ordinal));
        }
        _log.WriteLine($"SECRETS log lines checked={worker.Output.Split('\n').Length} dataset and ledger values checked={values.Count} leaks=0");
    }
}

using Azure;
using Azure.Storage.Blobs;
using EmotionBatch.Testing;

namespace EmotionBatch.Storage.Tests;

/// <summary>The fixture itself: a stopped emulator refuses requests and comes back on the same port with the same blobs.</summary>
public sealed class AzuriteFixtureTests
{
    [Fact]
    public async Task Stop_and_start_keep_the_port_and_the_data()
    {
        using var azurite = new AzuriteFixture();
        await azurite.InitializeAsync();
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        var container = new BlobServiceClient(azurite.ConnectionString, options).GetBlobContainerClient("survives");
        await container.CreateAsync();
        await container.GetBlobClient("a.wav").UploadAsync(BinaryData.FromString("kept"));

        azurite.Stop();
        Assert.False(azurite.IsRunning);
        await Assert.ThrowsAnyAsync<RequestFailedException>(() => container.GetBlobClient("a.wav").DownloadContentAsync());

        azurite.Start();
        Assert.True(azurite.IsRunning);
        var content = await container.GetBlobClient("a.wav").DownloadContentAsync();
        Assert.Equal("kept", content.Value.Content.ToString());
    }
}

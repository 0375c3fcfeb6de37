using Azure.Storage.Blobs;
using EmotionBatch.Testing;

namespace EmotionBatch.Storage.Tests;

/// <summary>One emulator for every test that needs blob storage; tests isolate themselves with their own container.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";

    public static async Task<BlobContainerClient> NewContainerAsync(AzuriteFixture azurite, string label)
    {
        var container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(AzuriteFixture.NewContainerName(label));
        await container.CreateIfNotExistsAsync();
        return container;
    }
}

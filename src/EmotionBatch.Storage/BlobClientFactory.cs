using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;

namespace EmotionBatch.Storage;

/// <summary>Builds blob clients from options: connection string, SAS URI, or service URI with DefaultAzureCredential.</summary>
public static class BlobClientFactory
{
    public static BlobClientOptions CreateClientOptions(BlobEndpointOptions options)
    {
        var clientOptions = new BlobClientOptions();
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.Delay = options.RetryDelay;
        clientOptions.Retry.MaxDelay = options.MaxRetryDelay;
        clientOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        return clientOptions;
    }

    public static BlobServiceClient CreateServiceClient(BlobEndpointOptions options, TokenCredential? credential = null)
    {
        var clientOptions = CreateClientOptions(options);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new BlobServiceClient(options.ConnectionString, clientOptions);
        }
        var serviceUri = options.ServiceUri ?? throw new InvalidOperationException("Blob storage needs a ConnectionString or a ServiceUri.");
        // A SAS in the URI is its own credential; without one, the ambient identity (managed identity, az login) is used.
        return string.IsNullOrEmpty(serviceUri.Query)
            ? new BlobServiceClient(serviceUri, credential ?? new DefaultAzureCredential(), clientOptions)
            : new BlobServiceClient(serviceUri, clientOptions);
    }

    public static BlobContainerClient CreateContainerClient(BlobEndpointOptions options, TokenCredential? credential = null) =>
        CreateServiceClient(options, credential).GetBlobContainerClient(options.ContainerName);

    /// <summary>Container URI without SAS, for descriptions and logs.</summary>
    internal static string Describe(BlobContainerClient container) => BlobNames.WithoutQuery(container.Uri)!.ToString();
}

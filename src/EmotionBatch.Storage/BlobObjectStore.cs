using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace EmotionBatch.Storage;

/// <summary>
/// Objects as block blobs under an optional prefix. A single upload commits the blob atomically (the block list is
/// committed in one call), so readers see the old content or the new, never a mix.
/// </summary>
internal sealed class BlobObjectStore : IObjectStore
{
    private readonly BlobContainerClient _container;
    private readonly string _prefix;
    private int _containerChecked;

    public BlobObjectStore(BlobContainerClient container, string? prefix = null)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        _prefix = string.IsNullOrWhiteSpace(prefix) ? string.Empty : prefix.Trim('/') + "/";
    }

    public string Description => $"blob container {BlobClientFactory.Describe(_container)}" + (_prefix.Length == 0 ? string.Empty : $" (prefix '{_prefix}')");

    public async Task PutAtomicAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        await PutAtomicAsync(name, BinaryData.FromBytes(content).ToStream(), cancellationToken).ConfigureAwait(false);

    public async Task PutAtomicAsync(string name, Stream content, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await Blob(name).UploadAsync(content, new BlobUploadOptions(), cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> TryGetAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var result = await Blob(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken) =>
        (await Blob(name).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pages = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = _prefix + prefix }, cancellationToken);
        var items = pages.GetAsyncEnumerator(cancellationToken);
        await using (items.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await items.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound)
                {
                    // Nothing written yet: an empty store, not an error.
                    yield break;
                }
                yield return items.Current.Name[_prefix.Length..];
            }
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken) =>
        await Blob(name).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken).ConfigureAwait(false);

    private BlobClient Blob(string name)
    {
        ObjectNames.Validate(name);
        return _container.GetBlobClient(_prefix + name);
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _containerChecked) != 0)
        {
            return;
        }
        try
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 403)
        {
            // An identity allowed to write blobs but not to create containers: the container must already exist.
        }
        Volatile.Write(ref _containerChecked, 1);
    }
}

using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using EmotionBatch.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EmotionBatch.Storage;

/// <summary>
/// Recordings in a blob container. Ids are blob names, the version tag is the blob's ETag, and fetching downloads
/// the exact listed version into the work folder under a name derived from the recording key, never from the blob name.
/// </summary>
public sealed class BlobContainerSource : IRecordingSource
{
    private readonly BlobContainerClient _container;
    private readonly string? _prefix;
    private readonly HashSet<string> _extensions;
    private readonly ILogger _logger;

    public BlobContainerSource(BlobContainerClient container, string? prefix = null, IEnumerable<string>? extensions = null, ILogger<BlobContainerSource>? logger = null)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        _prefix = string.IsNullOrEmpty(prefix) ? null : prefix;
        _extensions = new HashSet<string>(extensions ?? SourceOptions.DefaultExtensions, StringComparer.OrdinalIgnoreCase);
        _logger = logger ?? NullLogger<BlobContainerSource>.Instance;
    }

    public string Description => $"blob container {BlobClientFactory.Describe(_container)}" + (_prefix is null ? string.Empty : $" (prefix '{_prefix}')");

    public async IAsyncEnumerable<RecordingRef> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var blobs = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = _prefix }, cancellationToken);
        await foreach (var blob in blobs.ConfigureAwait(false))
        {
            if (blob.Deleted || !_extensions.Contains(ExtensionOf(blob.Name)))
            {
                continue;
            }
            var properties = blob.Properties;
            var uri = BlobNames.WithoutQuery(_container.GetBlobClient(blob.Name).Uri)!;
            yield return new RecordingRef(
                blob.Name,
                uri,
                properties.ETag?.ToString() ?? string.Empty,
                properties.ContentLength ?? 0,
                properties.LastModified ?? DateTimeOffset.UnixEpoch);
        }
    }

    public async Task<LocalRecording> FetchAsync(RecordingRef recording, string workFolder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        ArgumentException.ThrowIfNullOrWhiteSpace(workFolder);
        Directory.CreateDirectory(workFolder);
        var target = Path.Combine(Path.GetFullPath(workFolder), BlobNames.LocalFileName(recording));
        var partial = BlobNames.PartialFileName(target);
        var blob = _container.GetBlobClient(recording.Id);
        try
        {
            var options = new BlobDownloadToOptions
            {
                // Download the version that was listed: a blob rewritten in between is a new version for the next poll.
                Conditions = string.IsNullOrEmpty(recording.ETag) ? null : new BlobRequestConditions { IfMatch = new ETag(recording.ETag) },
            };
            await blob.DownloadToAsync(partial, options, cancellationToken).ConfigureAwait(false);
            File.Move(partial, target, overwrite: true);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            TryDelete(partial);
            StorageLog.BlobChangedBeforeFetch(_logger, recording.Id, ex.Status);
            throw new RecordingFailedException(PipelineStage.Fetch, ex.Status == 404 ? "blob no longer exists" : "blob changed since it was listed", ex) { Retryable = true };
        }
        catch (RequestFailedException ex) when (ex.Status == 400)
        {
            // Names with dot segments or characters the service cannot address: no retry will fix them.
            TryDelete(partial);
            throw new RecordingFailedException(PipelineStage.Fetch, $"the storage service rejected the blob name ({ex.ErrorCode ?? "400"})", ex) { Retryable = false };
        }
        catch
        {
            TryDelete(partial);
            throw;
        }
        return new LocalRecording(recording, target, deleteOnDispose: true);
    }

    private static string ExtensionOf(string name)
    {
        var dot = name.LastIndexOf('.');
        return dot >= 0 && dot > name.LastIndexOf('/') ? name[dot..] : string.Empty;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { /* the work folder is swept at start-up */ }
    }
}

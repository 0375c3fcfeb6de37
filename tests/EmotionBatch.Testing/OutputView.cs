using Azure.Storage.Blobs;

namespace EmotionBatch.Testing;

/// <summary>
/// The output datasets of a run, on a local folder or under a prefix of a blob container: counts of ledger entries
/// and files, and a local copy that DuckDB can read.
/// </summary>
public sealed class OutputView
{
    private readonly string? _folder;
    private readonly BlobContainerClient? _container;
    private readonly string _prefix;

    private OutputView(string? folder, BlobContainerClient? container, string? prefix)
    {
        _folder = folder;
        _container = container;
        _prefix = string.IsNullOrEmpty(prefix) ? string.Empty : prefix.Trim('/') + "/";
    }

    public static OutputView Local(string folder) => new(folder, null, null);

    public static OutputView Blob(BlobContainerClient container, string? prefix) => new(null, container, prefix);

    public bool IsBlob => _container is not null;

    /// <summary>Settings that point a worker at this output.</summary>
    public void Apply(IDictionary<string, string?> settings, string? connectionString = null)
    {
        if (_container is null)
        {
            settings["EmotionBatch:Output:Kind"] = "Local";
            settings["EmotionBatch:Output:LocalPath"] = _folder;
            return;
        }
        settings["EmotionBatch:Output:Kind"] = "Blob";
        settings["EmotionBatch:Output:ConnectionString"] = connectionString;
        settings["EmotionBatch:Output:ContainerName"] = _container.Name;
        settings["EmotionBatch:Output:Prefix"] = _prefix.TrimEnd('/');
    }

    /// <summary>Names (relative to the output root, '/'-separated) under <paramref name="folder"/>.</summary>
    public async Task<List<string>> ListAsync(string folder)
    {
        var names = new List<string>();
        if (_container is null)
        {
            var root = Path.Combine(_folder!, folder.Replace('/', Path.DirectorySeparatorChar));
            if (Directory.Exists(root))
            {
                names.AddRange(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                    .Where(path => !Path.GetFileName(path).StartsWith(".tmp-", StringComparison.Ordinal))
                    .Select(path => Path.GetRelativePath(_folder!, path).Replace(Path.DirectorySeparatorChar, '/')));
            }
            return names;
        }
        if (!await _container.ExistsAsync().ConfigureAwait(false))
        {
            return names;
        }
        await foreach (var blob in _container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = _prefix + folder.TrimEnd('/') + "/" }).ConfigureAwait(false))
        {
            names.Add(blob.Name[_prefix.Length..]);
        }
        return names;
    }

    public async Task<int> CountDoneAsync() => (await ListAsync("_state/done").ConfigureAwait(false)).Count;

    /// <summary>A local folder holding the datasets: the output itself, or a fresh download of it into <paramref name="scratch"/>.</summary>
    public async Task<string> MaterializeAsync(string scratch)
    {
        if (_container is null)
        {
            return _folder!;
        }
        var target = Path.Combine(scratch, $"download-{Guid.NewGuid():N}");
        Directory.CreateDirectory(target);
        await foreach (var blob in _container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = _prefix }).ConfigureAwait(false))
        {
            var local = Path.Combine(target, blob.Name[_prefix.Length..].Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            await _container.GetBlobClient(blob.Name).DownloadToAsync(local).ConfigureAwait(false);
        }
        return target;
    }
}

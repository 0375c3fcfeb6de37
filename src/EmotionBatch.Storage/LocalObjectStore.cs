using EmotionBatch.Datasets;
using System.Runtime.CompilerServices;

namespace EmotionBatch.Storage;

/// <summary>
/// Objects as files under a root folder. A put goes through <see cref="AtomicFile"/> (temporary file, fsync, rename), so
/// readers never see a half-written file and temporary files never match '*.parquet'.
/// </summary>
internal sealed class LocalObjectStore : IObjectStore
{
    private readonly string _root;

    public LocalObjectStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _root = Path.GetFullPath(root);
        try
        {
            Directory.CreateDirectory(_root);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"{OutputOptions.SectionName}:LocalPath '{_root}' cannot be used as the output folder: {ex.Message}", ex);
        }
        RemoveStaleTemporaryFiles();
    }

    public string Description => $"local folder {_root}";

    /// <summary>Temporary files of writes that a killed process never renamed.</summary>
    private void RemoveStaleTemporaryFiles()
    {
        var cutoff = DateTime.UtcNow - AbandonedWrites.After;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        foreach (var path in Directory.EnumerateFiles(_root, AtomicFile.TemporaryPrefix + "*", options))
        {
            try
            {
                if (File.GetLastWriteTimeUtc(path) < cutoff)
                {
                    File.Delete(path);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another worker's write, or a permission problem: the next start tries again.
            }
        }
    }

    public string Root => _root;

    public Task PutAtomicAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        PutAsync(name, (stream, token) => stream.WriteAsync(content, token).AsTask(), cancellationToken);

    public Task PutAtomicAsync(string name, Stream content, CancellationToken cancellationToken) =>
        PutAsync(name, (stream, token) => content.CopyToAsync(stream, token), cancellationToken);

    public async Task<byte[]?> TryGetAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(name), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken) => Task.FromResult(File.Exists(PathOf(name)));

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Start at the deepest folder the prefix names, so listing one recording's ledger does not walk the dataset.
        var slash = prefix.LastIndexOf('/');
        var folder = slash < 0 ? _root : PathOf(prefix[..slash]);
        if (!Directory.Exists(folder))
        {
            yield break;
        }
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        foreach (var path in Directory.EnumerateFiles(folder, "*", options).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (AtomicFile.IsTemporary(Path.GetFileName(path)))
            {
                continue;
            }
            var name = Path.GetRelativePath(_root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return name;
            }
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        // File.Delete is a no-op for a missing file but throws for a missing folder.
        var path = PathOf(name);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
        return Task.CompletedTask;
    }

    private Task PutAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(PathOf(name), write, cancellationToken);

    private string PathOf(string name)
    {
        ObjectNames.Validate(name);
        return Path.Combine(_root, name.Replace('/', Path.DirectorySeparatorChar));
    }
}

/// <summary>Object names are built by the store itself from hex keys; anything else is a programming error.</summary>
internal static class ObjectNames
{
    public static void Validate(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.StartsWith('/') || name.Contains('\\') || name.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new ArgumentException($"Invalid object name '{name}'.", nameof(name));
        }
    }
}

using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using EmotionBatch.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EmotionBatch.Storage;

/// <summary>
/// Recordings in a local folder tree. Ids are paths relative to the root with '/', the version tag is the SHA-256 of
/// the content (so a rewritten file with the same name is processed again), and fetching hands out the file in place.
/// </summary>
public sealed class LocalFolderSource : IRecordingSource
{
    private readonly string _root;
    private readonly string? _prefix;
    private readonly HashSet<string> _extensions;
    private readonly ILogger _logger;

    // Hashing every file on every poll would reread the whole archive; size + mtime unchanged means content unchanged.
    private readonly ConcurrentDictionary<string, CachedHash> _hashes = new(StringComparer.Ordinal);

    public LocalFolderSource(string root, string? prefix = null, IEnumerable<string>? extensions = null, ILogger<LocalFolderSource>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _root = Path.GetFullPath(root);
        _prefix = string.IsNullOrEmpty(prefix) ? null : prefix.Replace('\\', '/');
        _extensions = new HashSet<string>(extensions ?? SourceOptions.DefaultExtensions, StringComparer.OrdinalIgnoreCase);
        _logger = logger ?? NullLogger<LocalFolderSource>.Instance;
    }

    public string Description => $"local folder {_root}" + (_prefix is null ? string.Empty : $" (prefix '{_prefix}')");

    public async IAsyncEnumerable<RecordingRef> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_root))
        {
            StorageLog.SourceFolderMissing(_logger, _root);
            yield break;
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
        };
        var files = Directory.EnumerateFiles(_root, "*", options)
            .Select(path => (Path: path, Id: Path.GetRelativePath(_root, path).Replace(Path.DirectorySeparatorChar, '/')))
            .Where(file => _extensions.Contains(Path.GetExtension(file.Path))
                && !Path.GetFileName(file.Path).StartsWith('.')
                && (_prefix is null || file.Id.StartsWith(_prefix, StringComparison.Ordinal)))
            .OrderBy(file => file.Id, StringComparer.Ordinal)
            .ToList();

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, id) in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var info = new FileInfo(path);
            // Links could point outside the root; the archive is what is physically under it.
            if (!info.Exists || info.LinkTarget is not null)
            {
                continue;
            }
            string etag;
            try
            {
                etag = await GetHashAsync(info, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                // A file being written or removed while we list: the next poll sees it settled.
                StorageLog.SourceFileUnreadable(_logger, id, ex.Message);
                continue;
            }
            seen.Add(info.FullName);
            yield return new RecordingRef(id, new Uri(info.FullName), etag, info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
        }

        foreach (var stale in _hashes.Keys.Where(key => !seen.Contains(key)).ToList())
        {
            _hashes.TryRemove(stale, out _);
        }
    }

    public Task<LocalRecording> FetchAsync(RecordingRef recording, string workFolder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var path = Path.GetFullPath(Path.Combine(_root, recording.Id));
        // Ids come from our own listing, but a caller could hand in anything: stay inside the root.
        if (!path.StartsWith(_root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new RecordingFailedException("fetch", "recording id points outside the source folder");
        }
        if (!File.Exists(path))
        {
            throw new RecordingFailedException("fetch", "file no longer exists") { Retryable = false };
        }
        return Task.FromResult(new LocalRecording(recording, path, deleteOnDispose: false));
    }

    private async Task<string> GetHashAsync(FileInfo info, CancellationToken cancellationToken)
    {
        var stamp = (info.Length, info.LastWriteTimeUtc);
        if (_hashes.TryGetValue(info.FullName, out var cached) && cached.Stamp == stamp)
        {
            return cached.Sha256;
        }
        var hash = await Hashing.Sha256FileAsync(info.FullName, cancellationToken).ConfigureAwait(false);
        _hashes[info.FullName] = new CachedHash(stamp, hash);
        return hash;
    }

    private sealed record CachedHash((long Length, DateTime LastWriteUtc) Stamp, string Sha256);
}

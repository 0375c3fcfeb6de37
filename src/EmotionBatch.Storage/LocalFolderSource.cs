using System.Collections.Concurrent;
using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using EmotionBatch.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EmotionBatch.Storage;

/// <summary>
/// Recordings in a local folder tree (or one file). Ids are paths relative to the root with '/', the version tag is
/// the SHA-256 of the content (so a rewritten file with the same name is processed again), and fetching hands out
/// the file in place.
/// The archive is what is physically under the root: links are never followed (a link to a folder could loop or
/// lead outside the root) and only regular files are candidates (a FIFO would block the pass at open).
/// </summary>
public sealed class LocalFolderSource : IRecordingSource
{
    /// <summary>The version tag of a file whose name is not valid UTF-8: it cannot be opened by its decoded name.</summary>
    internal const string UndecodableNameTag = "undecodable-name";

    private readonly string _root;
    private readonly string? _singleFile;
    private readonly string? _prefix;
    private readonly HashSet<string> _extensions;
    private readonly long _maxHashBytes;
    private readonly ILogger _logger;

    // Hashing every file on every poll would reread the whole archive; the same size, modified time, change time and
    // inode mean the same content (a same-size rewrite that restores the old modified time still moves ctime).
    private readonly ConcurrentDictionary<string, CachedHash> _hashes = new(StringComparer.Ordinal);

    /// <param name="root">The folder to list, or a single recording file.</param>
    /// <param name="maxHashBytes">Files over this size are tagged by their status instead of hashed: the worker refuses
    /// them by size unread, so reading gigabytes to hash them on every pass would be wasted.</param>
    public LocalFolderSource(string root, string? prefix = null, IEnumerable<string>? extensions = null, ILogger<LocalFolderSource>? logger = null,
        long maxHashBytes = long.MaxValue)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        var full = Path.GetFullPath(root);
        if (FileStatus.TryGet(full) is { Kind: FileKind.SymbolicLink } && File.Exists(full) && !Directory.Exists(full))
        {
            // A file the operator names is taken as they name it, even through a link: its target is the archive.
            full = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        if (FileStatus.TryGet(full) is { Kind: FileKind.Regular })
        {
            _singleFile = Path.GetFileName(full);
            full = Path.GetDirectoryName(full)!;
        }
        _root = Path.TrimEndingDirectorySeparator(full);
        _prefix = string.IsNullOrEmpty(prefix) ? null : prefix.Replace('\\', '/');
        _extensions = new HashSet<string>(extensions ?? SourceOptions.DefaultExtensions, StringComparer.OrdinalIgnoreCase);
        _maxHashBytes = maxHashBytes;
        _logger = logger ?? NullLogger<LocalFolderSource>.Instance;
    }

    public string Description => _singleFile is not null
        ? $"local file {Path.Combine(_root, _singleFile)}"
        : $"local folder {_root}" + (_prefix is null ? string.Empty : $" (prefix '{_prefix}')");

    public async IAsyncEnumerable<RecordingRef> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_root))
        {
            StorageLog.SourceFolderMissing(_logger, _root);
            yield break;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, id) in Candidates(cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var status = FileStatus.TryGet(path);
            if (status is null)
            {
                if (id.Contains('\uFFFD', StringComparison.Ordinal))
                {
                    // Not openable by name; listed anyway so that it gets an error row naming it (fetch refuses it).
                    // Size unknown (-1): it cannot be stat'ed by name, and 0 would read as an empty file.
                    yield return new RecordingRef(id, FileUri(path), UndecodableNameTag, -1, DateTimeOffset.UnixEpoch);
                }
                continue; // gone since the directory was read: the next poll sees it settled
            }
            if (status.Value.Kind != FileKind.Regular)
            {
                StorageLog.SourceEntrySkipped(_logger, id, status.Value.Kind == FileKind.SymbolicLink ? "a link (links are not followed)" : "not a regular file (FIFO, socket or device)");
                continue;
            }
            string etag;
            try
            {
                etag = await GetTagAsync(path, status.Value, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A file being written or removed while we list, or not readable: the next poll tries again.
                StorageLog.SourceFileUnreadable(_logger, id, ex.Message);
                continue;
            }
            seen.Add(path);
            yield return new RecordingRef(id, FileUri(path), etag, status.Value.Size, status.Value.LastModified);
        }

        foreach (var stale in _hashes.Keys.Where(key => !seen.Contains(key)).ToList())
        {
            _hashes.TryRemove(stale, out _);
        }
    }

    /// <summary>Candidate files (path, id) in id order; folders are entered only when they are real folders, not links.</summary>
    private List<(string Path, string Id)> Candidates(CancellationToken cancellationToken)
    {
        if (_singleFile is not null)
        {
            return [(Path.Combine(_root, _singleFile), _singleFile)];
        }
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
        };
        var entries = new FileSystemEnumerable<(string Path, bool IsLink)>(
            _root,
            (ref FileSystemEntry entry) => (entry.ToFullPath(), IsLink(ref entry)),
            options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                return !entry.IsDirectory || IsLink(ref entry);
            },
            ShouldRecursePredicate = (ref FileSystemEntry entry) => !IsLink(ref entry),
        };
        var files = new List<(string Path, string Id)>();
        foreach (var (path, isLink) in entries)
        {
            var id = Path.GetRelativePath(_root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (isLink && Directory.Exists(path))
            {
                StorageLog.SourceEntrySkipped(_logger, id, "a link to a folder (links are not followed)");
                continue;
            }
            if (_extensions.Contains(Path.GetExtension(path))
                && !Path.GetFileName(path).StartsWith('.')
                && (_prefix is null || id.StartsWith(_prefix, StringComparison.Ordinal)))
            {
                files.Add((path, id));
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return files;
    }

    /// <summary>
    /// The file: URI of a path with every segment escaped: <c>new Uri(path)</c> reads "%41" in a file name as an escaped
    /// 'A', so <c>100%41.wav</c> would be reported as <c>100A.wav</c>.
    /// </summary>
    internal static Uri FileUri(string path) =>
        new("file://" + string.Join('/', path.Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString)));

    private static bool IsLink(ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) != 0;

    public Task<LocalRecording> FetchAsync(RecordingRef recording, string workFolder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var path = Path.GetFullPath(Path.Combine(_root, recording.Id));
        // Ids come from our own listing, but a caller could hand in anything: stay inside the root.
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new RecordingFailedException(PipelineStage.Fetch, "recording id points outside the source folder");
        }
        if (recording.ETag == UndecodableNameTag)
        {
            throw new RecordingFailedException(PipelineStage.Fetch,
                "the file name is not valid UTF-8 (undecodable bytes are shown as U+FFFD), so it cannot be opened by name; rename the file to UTF-8")
            { Retryable = false };
        }
        var status = FileStatus.TryGet(path);
        if (status is null)
        {
            // Moved away while we worked: when it comes back it must still be processed.
            throw new RecordingFailedException(PipelineStage.Fetch, "file no longer exists (retried if it returns)") { Retryable = true };
        }
        if (status.Value.Kind != FileKind.Regular)
        {
            throw new RecordingFailedException(PipelineStage.Fetch, "no longer a regular file") { Retryable = true };
        }
        if (recording.Id.Any(char.IsControl))
        {
            // The decoder refuses control characters in paths (they would garble its stderr parsing); it reads
            // such a file through a link with a hex name in the work folder instead.
            Directory.CreateDirectory(workFolder);
            var link = Path.Combine(Path.GetFullPath(workFolder), BlobNames.LocalFileName(recording));
            File.Delete(link);
            File.CreateSymbolicLink(link, path);
            return Task.FromResult(new LocalRecording(recording, link, deleteOnDispose: true));
        }
        return Task.FromResult(new LocalRecording(recording, path, deleteOnDispose: false));
    }

    private async Task<string> GetTagAsync(string path, FileStatus status, CancellationToken cancellationToken)
    {
        if (status.Size > _maxHashBytes)
        {
            return FormattableString.Invariant($"unhashed-{status.Size}-{status.ModifiedSeconds}.{status.ModifiedNanoseconds}-{status.Inode}");
        }
        if (_hashes.TryGetValue(path, out var cached) && cached.Status == status)
        {
            return cached.Sha256;
        }
        var started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var hash = await Hashing.Sha256FileAsync(path, cancellationToken).ConfigureAwait(false);
        // Cached only when nothing moved while it was read, and its change time is a full second older than the read:
        // file times advance in kernel ticks, so a same-size rewrite within the same tick would keep the same status.
        if (FileStatus.TryGet(path) == status && status.ChangedSeconds < started - 1)
        {
            _hashes[path] = new CachedHash(status, hash);
        }
        return hash;
    }

    private sealed record CachedHash(FileStatus Status, string Sha256);
}

namespace EmotionBatch.Core;

/// <summary>A recording as listed by a source: a stable id (blob name or relative path) plus a version tag.</summary>
/// <param name="Id">Stable name inside the source, with forward slashes (e.g. "2026/11/call-17.wav").</param>
/// <param name="Uri">Where it lives, without any credential (SAS query strings are stripped by the source).</param>
/// <param name="ETag">Version tag: the blob ETag, or a content hash for local files. A new tag means new content.</param>
public sealed record RecordingRef(string Id, Uri Uri, string ETag, long SizeBytes, DateTimeOffset LastModified)
{
    /// <summary>Deterministic key of this recording version; output names derive from it so a rerun overwrites instead of duplicating.</summary>
    public RecordingKey Key => RecordingKey.For(this);
}

/// <summary>
/// Identity of one version of one recording. <see cref="IdHash"/> groups all versions of a recording,
/// <see cref="VersionHash"/> distinguishes content versions. Both are hex, safe as file or blob names.
/// </summary>
public sealed record RecordingKey(string IdHash, string VersionHash)
{
    public static RecordingKey For(RecordingRef recording)
    {
        ArgumentNullException.ThrowIfNull(recording);
        return For(recording.Id, recording.ETag);
    }

    /// <summary>The key of version <paramref name="etag"/> of recording <paramref name="id"/>: the one formula every output name derives from.</summary>
    public static RecordingKey For(string id, string etag) => new(IdHashOf(id), Hashing.ShortHex(id + "\n" + etag));

    /// <summary>The part of the key shared by every version of recording <paramref name="id"/>.</summary>
    public static string IdHashOf(string id) => Hashing.ShortHex(id);

    public override string ToString() => $"{IdHash}-{VersionHash}";
}

/// <summary>A recording fetched to the local work folder, ready for the decoder. Disposing removes any temporary copy.</summary>
public sealed class LocalRecording : IAsyncDisposable
{
    private readonly bool _deleteOnDispose;

    public LocalRecording(RecordingRef recording, string path, bool deleteOnDispose)
    {
        Recording = recording;
        Path = path;
        _deleteOnDispose = deleteOnDispose;
    }

    public RecordingRef Recording { get; }
    public string Path { get; }

    public ValueTask DisposeAsync()
    {
        if (_deleteOnDispose)
        {
            try { File.Delete(Path); } catch (IOException) { /* best effort: the work folder is swept at start-up */ }
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>Where recordings come from: a local folder or a blob container, with the same semantics.</summary>
public interface IRecordingSource
{
    /// <summary>A human-readable description without secrets, for logs.</summary>
    string Description { get; }

    IAsyncEnumerable<RecordingRef> ListAsync(CancellationToken cancellationToken);

    /// <summary>Makes the recording available as a local file inside <paramref name="workFolder"/> (or in place for local sources).</summary>
    Task<LocalRecording> FetchAsync(RecordingRef recording, string workFolder, CancellationToken cancellationToken);
}

namespace EmotionBatch.Datasets;

/// <summary>
/// The one way a file of the output is written on a local disk: into <c>.tmp-&lt;guid&gt;</c> beside the target, flushed
/// to disk, renamed over the target. Readers never see half a file (they skip names starting with '.'), and a power cut
/// after the rename cannot leave a named but empty file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Prefix of in-flight files; a crash can leave them behind, and <see cref="IsTemporary"/> finds them for sweeping.</summary>
    public const string TemporaryPrefix = ".tmp-";

    public static bool IsTemporary(string fileName) => fileName.StartsWith(TemporaryPrefix, StringComparison.Ordinal);

    public static Task WriteAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        WriteAsync(path, (stream, token) => stream.WriteAsync(content, token).AsTask(), cancellationToken);

    public static Task WriteAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        return WriteAsync(path, content.CopyToAsync, cancellationToken);
    }

    /// <summary>Creates the folder if needed and writes whatever <paramref name="write"/> puts into the stream.</summary>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var target = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $"{TemporaryPrefix}{Guid.NewGuid():N}");
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { /* swept later as a stale temporary file */ }
            throw;
        }
    }
}

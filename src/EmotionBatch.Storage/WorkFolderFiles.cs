namespace EmotionBatch.Storage;

/// <summary>
/// The files sources write into the worker's work folder (fetched recordings named by <see cref="BlobNames.LocalFileName"/>
/// and their downloads in progress), and the start-up removal of those a killed worker left behind.
/// </summary>
public static class WorkFolderFiles
{
    /// <summary>
    /// Removes, from the top level of <paramref name="folder"/> only, regular files named as a source names them and
    /// untouched for <see cref="AbandonedWrites.After"/>: a worker sharing the folder keeps its live downloads, a
    /// mis-set folder loses nothing else, and links (made for names with control characters; one may belong to a live
    /// worker) are left alone. Returns how many went and the files that could not be removed, with the reason.
    /// </summary>
    public static (int Removed, IReadOnlyList<(string File, string Reason)> Failures) RemoveAbandoned(string folder, DateTimeOffset now)
    {
        var failures = new List<(string, string)>();
        if (!Directory.Exists(folder))
        {
            return (0, failures);
        }
        var cutoff = now.UtcDateTime - AbandonedWrites.After;
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            try
            {
                var info = new FileInfo(file);
                if (!BlobNames.IsWorkFileName(info.Name) || info.LinkTarget is not null || info.LastWriteTimeUtc >= cutoff)
                {
                    continue;
                }
                info.Delete();
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failures.Add((file, ex.Message));
            }
        }
        return (removed, failures);
    }
}

/// <summary>A write (download, atomic put) untouched this long has no live writer: its process was killed.</summary>
internal static class AbandonedWrites
{
    public static readonly TimeSpan After = TimeSpan.FromHours(1);
}

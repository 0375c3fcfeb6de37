using EmotionBatch.Core;

namespace EmotionBatch.Datasets;

/// <summary>
/// Reads the utterances dataset (<c>&lt;output&gt;/utterances/date=YYYY-MM-DD/*.parquet</c>) back into <see cref="UtteranceRow"/>s.
/// </summary>
public sealed class UtteranceDatasetReader
{
    /// <param name="path">The output folder (holding <c>utterances/</c>), the utterances folder itself, or one Parquet file.</param>
    public UtteranceDatasetReader(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        var nested = Path.Combine(full, DatasetLayout.Utterances);
        Location = Directory.Exists(nested) ? nested : full;
    }

    /// <summary>The folder (or file) that is read.</summary>
    public string Location { get; }

    /// <summary>Every Parquet file of the dataset, in a stable order. Names starting with '.' or '_' are in-flight or marker files and are left out.</summary>
    public IReadOnlyList<string> ListFiles()
    {
        if (File.Exists(Location))
        {
            return [Location];
        }
        if (!Directory.Exists(Location))
        {
            throw new DirectoryNotFoundException($"No utterances dataset at {Location}: expected a folder of Parquet files (run `emotionbatch process` first).");
        }
        return Directory.EnumerateFiles(Location, "*.parquet", SearchOption.AllDirectories)
            .Where(file => !DatasetLayout.IsHidden(Path.GetFileName(file)))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Reads all rows, or only those of one recording, in file order.</summary>
    public async Task<IReadOnlyList<UtteranceRow>> ReadAsync(string? recordingId = null, CancellationToken cancellationToken = default) =>
        (await ReadFilesAsync(recordingId, cancellationToken).ConfigureAwait(false)).SelectMany(file => file.Rows).ToList();

    /// <summary>Reads all rows, or only those of one recording, file by file (files without such rows are left out).</summary>
    public async Task<IReadOnlyList<(string File, IReadOnlyList<UtteranceRow> Rows)>> ReadFilesAsync(
        string? recordingId = null, CancellationToken cancellationToken = default)
    {
        // Files named <id-hash>-<version-hash>.parquet hold one recording each, so a filtered read can skip the others unopened.
        var idHash = recordingId is null ? null : RecordingKey.IdHashOf(recordingId);
        var result = new List<(string, IReadOnlyList<UtteranceRow>)>();
        foreach (var file in ListFiles())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (idHash is not null && DatasetLayout.IdHashOf(Path.GetFileName(file)) is { } fileIdHash
                && !string.Equals(fileIdHash, idHash, StringComparison.Ordinal))
            {
                continue;
            }
            await using var stream = File.OpenRead(file);
            try
            {
                var rows = await UtteranceParquet.ReadAsync(stream, recordingId, cancellationToken).ConfigureAwait(false);
                if (rows.Count > 0)
                {
                    result.Add((file, rows));
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
            {
                throw new InvalidDataException($"Cannot read {file}: {e.Message}", e);
            }
        }
        return result;
    }
}

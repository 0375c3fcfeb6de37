using EmotionBatch.Reports.Dataset;

namespace EmotionBatch.Reports.Summaries;

/// <summary>Rebuilds the summaries dataset from the utterances dataset (after a model change, or for output written before summaries existed).</summary>
public static class SummaryDatasetBuilder
{
    /// <summary>
    /// Writes one summary file per recording version found in <paramref name="input"/>'s utterances into
    /// <paramref name="output"/>/summaries, replacing files of the same versions. A duration already recorded in an
    /// existing summary (measured from the audio at processing time) is kept; otherwise the last utterance's end is used.
    /// </summary>
    /// <returns>The summaries written, in recording id order.</returns>
    public static async Task<IReadOnlyList<RecordingSummary>> RebuildAsync(
        string input, string output, string? recordingId = null, CancellationToken cancellationToken = default)
    {
        var rows = await new UtteranceDatasetReader(input).ReadAsync(recordingId, cancellationToken).ConfigureAwait(false);
        var knownDurations = await ReadKnownDurationsAsync(output, cancellationToken).ConfigureAwait(false);

        var written = new List<RecordingSummary>();
        foreach (var version in UtteranceDataset.ByVersion(rows))
        {
            var first = version[0];
            double? duration = knownDurations.TryGetValue((first.RecordingId, first.ETag), out var known) ? known : null;
            var summary = RecordingSummary.From(version, duration);
            var path = Path.Combine(Path.GetFullPath(output), SummaryParquet.RelativePath(summary).Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Through a temporary name that starts with '.', which readers skip, so a query never sees half a file.
            var temporary = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");
            await File.WriteAllBytesAsync(temporary, SummaryParquet.Serialize([summary]), cancellationToken).ConfigureAwait(false);
            File.Move(temporary, path, overwrite: true);
            written.Add(summary);
        }
        return written;
    }

    /// <summary>Every summary under <paramref name="output"/>/summaries (empty when there is none yet).</summary>
    public static async Task<IReadOnlyList<RecordingSummary>> ReadAllAsync(string output, CancellationToken cancellationToken = default)
    {
        var folder = Path.Combine(Path.GetFullPath(output), SummaryParquet.FolderName);
        if (!Directory.Exists(folder))
        {
            return [];
        }
        var result = new List<RecordingSummary>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(file).StartsWith('.'))
            {
                continue;
            }
            await using var stream = File.OpenRead(file);
            result.AddRange(await SummaryParquet.DeserializeAsync(stream, cancellationToken).ConfigureAwait(false));
        }
        return result;
    }

    private static async Task<Dictionary<(string, string), double>> ReadKnownDurationsAsync(string output, CancellationToken cancellationToken)
    {
        var known = new Dictionary<(string, string), double>();
        foreach (var summary in await ReadAllAsync(output, cancellationToken).ConfigureAwait(false))
        {
            if (summary.DurationSeconds > 0)
            {
                known[(summary.RecordingId, summary.ETag)] = summary.DurationSeconds;
            }
        }
        return known;
    }
}

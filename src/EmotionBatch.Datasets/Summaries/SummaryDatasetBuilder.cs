namespace EmotionBatch.Datasets;

/// <summary>Rebuilds the summaries dataset from the utterances dataset (after a model change, or for output written before summaries existed).</summary>
public static class SummaryDatasetBuilder
{
    /// <summary>
    /// Writes the summary and channel summaries of each recording version found in <paramref name="input"/>'s utterances
    /// into <paramref name="output"/>, replacing files of the same versions. Each summary is named after the utterances
    /// file it comes from (same partition, same name), exactly as the worker names it, so summarising the worker's own
    /// output replaces its summaries instead of adding a second row. Rows not in a worker-named file (one version per
    /// file) are named by processing day. A duration already recorded in an existing summary (measured from the audio
    /// at processing time) is kept; otherwise the last utterance's end is used.
    /// </summary>
    /// <returns>The summaries written, in recording id order.</returns>
    public static async Task<IReadOnlyList<RecordingSummary>> RebuildAsync(
        string input, string output, string? recordingId = null, CancellationToken cancellationToken = default)
    {
        var reader = new UtteranceDatasetReader(input);
        var files = await reader.ReadFilesAsync(recordingId, cancellationToken).ConfigureAwait(false);
        var knownDurations = await ReadKnownDurationsAsync(output, cancellationToken).ConfigureAwait(false);
        var fileOf = new Dictionary<(string, string), string?>();
        foreach (var (file, rows) in files)
        {
            foreach (var version in rows.Select(row => (row.RecordingId, row.ETag)).Distinct())
            {
                var homeFile = DatasetLayout.IsVersionFileName(Path.GetFileName(file)) && rows.All(row => (row.RecordingId, row.ETag) == version) ? file : null;
                // A version found in two files (or sharing one) has no single home: it is named by processing day.
                fileOf[version] = fileOf.TryGetValue(version, out var seen) ? (seen == homeFile ? seen : null) : homeFile;
            }
        }

        var written = new List<RecordingSummary>();
        foreach (var version in UtteranceDataset.ByVersion(files.SelectMany(file => file.Rows)))
        {
            var first = version[0];
            double? duration = knownDurations.TryGetValue((first.RecordingId, first.ETag), out var known) ? known : null;
            var summary = RecordingSummary.From(version, duration);
            // Beside the utterances file as the worker names it (its date= partition and name), whatever folder was given.
            var relative = fileOf[(first.RecordingId, first.ETag)] is { } home
                && Path.GetFileName(Path.GetDirectoryName(home)) is { } partition && partition.StartsWith("date=", StringComparison.Ordinal)
                ? partition + "/" + Path.GetFileName(home)
                : SummaryParquet.RelativePath(summary)[(DatasetLayout.Summaries.Length + 1)..];
            var channels = ChannelSummary.From(version, summary.DurationSeconds);
            await AtomicFile.WriteAsync(PathOf(output, DatasetLayout.Summaries, relative),
                (stream, token) => SummaryParquet.WriteAsync([summary], stream, token), cancellationToken).ConfigureAwait(false);
            await AtomicFile.WriteAsync(PathOf(output, DatasetLayout.ChannelSummaries, relative),
                (stream, token) => ChannelSummaryParquet.WriteAsync(channels, stream, token), cancellationToken).ConfigureAwait(false);
            written.Add(summary);
        }
        return written;
    }

    private static string PathOf(string output, string dataset, string relative) =>
        Path.Combine(Path.GetFullPath(output), dataset, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Every summary under <paramref name="output"/>/summaries (empty when there is none yet).</summary>
    public static async Task<IReadOnlyList<RecordingSummary>> ReadAllAsync(string output, CancellationToken cancellationToken = default)
    {
        var result = new List<RecordingSummary>();
        foreach (var file in DatasetLayout.ParquetFiles(output, DatasetLayout.Summaries))
        {
            await using var stream = File.OpenRead(file);
            result.AddRange(await SummaryParquet.ReadAsync(stream, cancellationToken).ConfigureAwait(false));
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

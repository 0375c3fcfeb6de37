using EmotionBatch.Core;

namespace EmotionBatch.Datasets;

/// <summary>Shapes rows read from the dataset into what reports need: one current version per recording, in time order.</summary>
public static class UtteranceDataset
{
    /// <summary>
    /// Keeps, per recording, only the version (etag) processed last, and drops duplicate utterances of that version
    /// (a rerun on another day may leave the same rows in two date partitions): the newest row of each index wins.
    /// </summary>
    public static IReadOnlyList<UtteranceRow> LatestVersions(IEnumerable<UtteranceRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var result = new List<UtteranceRow>();
        foreach (var recording in rows.GroupBy(row => row.RecordingId, StringComparer.Ordinal))
        {
            var latest = recording
                .GroupBy(row => row.ETag, StringComparer.Ordinal)
                .MaxBy(version => version.Max(row => row.ProcessedAtUtc))!;
            result.AddRange(latest
                .GroupBy(row => row.UtteranceIndex)
                .Select(same => same.MaxBy(row => row.ProcessedAtUtc)!));
        }
        return result;
    }

    /// <summary>Groups rows by recording (ordinal id order), each group sorted by start time then index.</summary>
    public static IReadOnlyList<IReadOnlyList<UtteranceRow>> ByRecording(IEnumerable<UtteranceRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return rows
            .GroupBy(row => row.RecordingId, StringComparer.Ordinal)
            .OrderBy(group => group.Key, StringComparer.Ordinal)
            .Select(group => (IReadOnlyList<UtteranceRow>)group
                .OrderBy(row => row.StartSeconds)
                .ThenBy(row => row.UtteranceIndex)
                .ToList())
            .ToList();
    }

    /// <summary>
    /// Groups rows by recording version (id and etag), each group without duplicate utterances and sorted by start time:
    /// the shape <see cref="RecordingSummary.From"/> takes.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<UtteranceRow>> ByVersion(IEnumerable<UtteranceRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return rows
            .GroupBy(row => (row.RecordingId, row.ETag))
            .OrderBy(group => group.Key.RecordingId, StringComparer.Ordinal)
            .ThenBy(group => group.Key.ETag, StringComparer.Ordinal)
            .Select(group => (IReadOnlyList<UtteranceRow>)group
                .GroupBy(row => row.UtteranceIndex)
                .Select(same => same.MaxBy(row => row.ProcessedAtUtc)!)
                .OrderBy(row => row.StartSeconds)
                .ThenBy(row => row.UtteranceIndex)
                .ToList())
            .ToList();
    }
}

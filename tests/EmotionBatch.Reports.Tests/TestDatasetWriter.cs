using EmotionBatch.Core;
using EmotionBatch.Datasets;
using EmotionBatch.Testing;

namespace EmotionBatch.Reports.Tests;

/// <summary>
/// Writes utterances and errors datasets through the dataset contract (schema and layout of EmotionBatch.Datasets),
/// dated by processing day, so the reports read what the worker would write. Files of the layout before the channel
/// columns are made by DuckDB from those, an independent writer.
/// </summary>
internal static class TestDatasetWriter
{
    /// <summary>Writes each recording version of <paramref name="rows"/> to its own file under <c>output/utterances/date=…/</c>.</summary>
    public static async Task WriteUtterancesAsync(string output, IEnumerable<UtteranceRow> rows)
    {
        foreach (var version in rows.GroupBy(row => (row.RecordingId, row.ETag)))
        {
            var list = version.OrderBy(row => row.UtteranceIndex).ToList();
            var name = DatasetLayout.UtteranceFile(DatasetLayout.Partition(list[0].ProcessedAtUtc), RecordingKey.For(version.Key.RecordingId, version.Key.ETag));
            await WriteUtteranceFileAsync(Path.Combine(output, name), list);
        }
    }

    public static Task WriteUtteranceFileAsync(string path, IReadOnlyList<UtteranceRow> list) =>
        AtomicFile.WriteAsync(path, (stream, token) => UtteranceParquet.WriteAsync(list, stream, token), CancellationToken.None);

    /// <summary>
    /// Rewrites a file as files written before channel splitting were: without <c>channel</c>, <c>speaker_role</c>,
    /// <c>overlap</c> and the later <c>vad_threshold</c>.
    /// </summary>
    public static void DropChannelColumns(string path) => DropColumns(path, "channel", "speaker_role", "overlap", "vad_threshold");

    /// <summary>Rewrites a file as files written before the VAD's fallback pass were: without <c>vad_threshold</c>.</summary>
    public static void DropVadThresholdColumn(string path) => DropColumns(path, "vad_threshold");

    private static void DropColumns(string path, params string[] columns)
    {
        var legacy = path + ".legacy";
        var source = path.Replace("'", "''", StringComparison.Ordinal);
        DuckDbParquet.Query($"COPY (SELECT * EXCLUDE ({string.Join(", ", columns)}) FROM read_parquet('{source}')) TO '{legacy.Replace("'", "''", StringComparison.Ordinal)}' (FORMAT parquet)");
        File.Move(legacy, path, overwrite: true);
    }

    public static async Task WriteErrorsAsync(string output, IReadOnlyList<FailureRow> failures)
    {
        foreach (var day in failures.GroupBy(f => DatasetLayout.Partition(f.FailedAtUtc)))
        {
            var list = day.ToList();
            var path = Path.Combine(output, DatasetLayout.Errors, day.Key, $"{Guid.NewGuid():N}.parquet");
            await AtomicFile.WriteAsync(path, (stream, token) => FailureParquet.WriteAsync(list, stream, token), CancellationToken.None);
        }
    }
}

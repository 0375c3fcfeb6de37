using Parquet;
using Parquet.Schema;
using static EmotionBatch.Datasets.ParquetFields;

namespace EmotionBatch.Datasets;

/// <summary>Parquet encoding of <see cref="RecordingSummary"/> rows (the <c>summaries</c> dataset, docs/schema.md).</summary>
public static class SummaryParquet
{
    // Internal ones are also columns of channel_summaries (ChannelSummaryParquet): one definition, same names and types.
    internal static readonly DataField<double> DurationSeconds = new(SummaryColumns.DurationSeconds, nullable: false);
    internal static readonly DataField<double> SpeechSeconds = new(SummaryColumns.SpeechSeconds, nullable: false);
    private static readonly DataField<double> SpeechShare = new(SummaryColumns.SpeechShare, nullable: false);
    internal static readonly DataField<int> Utterances = new(SummaryColumns.Utterances, nullable: false);
    internal static readonly DataField<string> DominantEmotion = new(SummaryColumns.DominantEmotion, nullable: true);
    internal static readonly DataField<float> ShareAngry = new(SummaryColumns.ShareAngry, nullable: false);
    internal static readonly DataField<float> ShareHappy = new(SummaryColumns.ShareHappy, nullable: false);
    internal static readonly DataField<float> ShareSad = new(SummaryColumns.ShareSad, nullable: false);
    internal static readonly DataField<float> ShareNeutral = new(SummaryColumns.ShareNeutral, nullable: false);
    internal static readonly DataField<float> MeanValence = new(SummaryColumns.MeanValence, nullable: true);
    internal static readonly DataField<float> MeanArousal = new(SummaryColumns.MeanArousal, nullable: true);

    /// <summary>The schema every summaries file has.</summary>
    public static ParquetSchema Schema { get; } = new(
        RecordingId, RecordingUri, ETag, DurationSeconds, SpeechSeconds, SpeechShare, Utterances, DominantEmotion,
        ShareAngry, ShareHappy, ShareSad, ShareNeutral, MeanValence, MeanArousal, ModelName, ModelVersion, ProcessedAt);

    /// <summary>One Parquet file holding <paramref name="summaries"/> in one row group.</summary>
    public static Task WriteAsync(IReadOnlyList<RecordingSummary> summaries, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        return WriteFileAsync(Schema, destination, async group =>
        {
            await WriteStringsAsync(group, RecordingId, summaries, s => s.RecordingId, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, RecordingUri, summaries, s => s.RecordingUri, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, ETag, summaries, s => s.ETag, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, DurationSeconds, summaries, s => s.DurationSeconds, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, SpeechSeconds, summaries, s => s.SpeechSeconds, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, SpeechShare, summaries, s => s.SpeechShare, cancellationToken).ConfigureAwait(false);
            await WriteEmotionColumnsAsync(group, summaries, s => s.Utterances, s => s.DominantEmotion,
                s => (s.ShareAngry, s.ShareHappy, s.ShareSad, s.ShareNeutral), s => (s.MeanValence, s.MeanArousal), cancellationToken).ConfigureAwait(false);
            await WriteModelColumnsAsync(group, summaries, s => (s.ModelName, s.ModelVersion, s.ProcessedAtUtc), cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>The columns from <c>utterances</c> to <c>mean_arousal</c>, which both summary datasets have in this order.</summary>
    internal static async Task WriteEmotionColumnsAsync<T>(
        ParquetRowGroupWriter group, IReadOnlyList<T> rows, Func<T, int> utterances, Func<T, string?> dominant,
        Func<T, (float Angry, float Happy, float Sad, float Neutral)> shares, Func<T, (float? Valence, float? Arousal)> means, CancellationToken cancellationToken)
    {
        await WriteValuesAsync(group, Utterances, rows, utterances, cancellationToken).ConfigureAwait(false);
        await WriteStringsAsync(group, DominantEmotion, rows, dominant, cancellationToken).ConfigureAwait(false);
        await WriteValuesAsync(group, ShareAngry, rows, r => shares(r).Angry, cancellationToken).ConfigureAwait(false);
        await WriteValuesAsync(group, ShareHappy, rows, r => shares(r).Happy, cancellationToken).ConfigureAwait(false);
        await WriteValuesAsync(group, ShareSad, rows, r => shares(r).Sad, cancellationToken).ConfigureAwait(false);
        await WriteValuesAsync(group, ShareNeutral, rows, r => shares(r).Neutral, cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(group, MeanValence, rows, r => means(r).Valence, cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(group, MeanArousal, rows, r => means(r).Arousal, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The last three columns of both summary datasets: which model, and when.</summary>
    internal static async Task WriteModelColumnsAsync<T>(
        ParquetRowGroupWriter group, IReadOnlyList<T> rows, Func<T, (string Name, string Version, DateTime ProcessedAtUtc)> model, CancellationToken cancellationToken)
    {
        await WriteStringsAsync(group, ModelName, rows, r => model(r).Name, cancellationToken).ConfigureAwait(false);
        await WriteStringsAsync(group, ModelVersion, rows, r => model(r).Version, cancellationToken).ConfigureAwait(false);
        await WriteValuesAsync(group, ProcessedAt, rows, r => AsUtc(model(r).ProcessedAtUtc), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a summaries file back (used to keep known durations when summaries are rebuilt).</summary>
    public static async Task<IReadOnlyList<RecordingSummary>> ReadAsync(Stream source, CancellationToken cancellationToken)
    {
        await using var reader = await ParquetReader.CreateAsync(source, null, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
        var columns = new ParquetColumns(reader.Schema, "a summaries file");

        var result = new List<RecordingSummary>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.OpenRowGroupReader(g);
            var ids = await columns.StringsAsync(group, SummaryColumns.RecordingId, cancellationToken).ConfigureAwait(false);
            var uris = await columns.StringsAsync(group, SummaryColumns.RecordingUri, cancellationToken).ConfigureAwait(false);
            var etags = await columns.StringsAsync(group, SummaryColumns.ETag, cancellationToken).ConfigureAwait(false);
            var durations = await columns.DoublesAsync(group, SummaryColumns.DurationSeconds, cancellationToken).ConfigureAwait(false);
            var speech = await columns.DoublesAsync(group, SummaryColumns.SpeechSeconds, cancellationToken).ConfigureAwait(false);
            var speechShare = await columns.DoublesAsync(group, SummaryColumns.SpeechShare, cancellationToken).ConfigureAwait(false);
            var utterances = await columns.IntegersAsync(group, SummaryColumns.Utterances, cancellationToken).ConfigureAwait(false);
            var dominant = await columns.StringsAsync(group, SummaryColumns.DominantEmotion, cancellationToken).ConfigureAwait(false);
            var angry = await columns.DoublesAsync(group, SummaryColumns.ShareAngry, cancellationToken).ConfigureAwait(false);
            var happy = await columns.DoublesAsync(group, SummaryColumns.ShareHappy, cancellationToken).ConfigureAwait(false);
            var sad = await columns.DoublesAsync(group, SummaryColumns.ShareSad, cancellationToken).ConfigureAwait(false);
            var neutral = await columns.DoublesAsync(group, SummaryColumns.ShareNeutral, cancellationToken).ConfigureAwait(false);
            var valence = await columns.DoublesAsync(group, SummaryColumns.MeanValence, cancellationToken).ConfigureAwait(false);
            var arousal = await columns.DoublesAsync(group, SummaryColumns.MeanArousal, cancellationToken).ConfigureAwait(false);
            var modelNames = await columns.StringsAsync(group, SummaryColumns.ModelName, cancellationToken).ConfigureAwait(false);
            var modelVersions = await columns.StringsAsync(group, SummaryColumns.ModelVersion, cancellationToken).ConfigureAwait(false);
            var processedAt = await columns.TimestampsAsync(group, SummaryColumns.ProcessedAt, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < ids.Length; i++)
            {
                result.Add(new RecordingSummary(
                    ids[i] ?? "", uris[i] ?? "", etags[i] ?? "",
                    durations[i] ?? 0, speech[i] ?? 0, speechShare[i] ?? 0, (int)(utterances[i] ?? 0), dominant[i],
                    (float)(angry[i] ?? 0), (float)(happy[i] ?? 0), (float)(sad[i] ?? 0), (float)(neutral[i] ?? 0),
                    valence[i] is { } v ? (float)v : null, arousal[i] is { } a ? (float)a : null,
                    modelNames[i] ?? "", modelVersions[i] ?? "", processedAt[i] ?? DateTime.MinValue));
            }
        }
        return result;
    }

    /// <summary>
    /// Where the summary of a recording version goes when its rows are not in a worker-named utterances file (one version
    /// per file): <c>summaries/date=YYYY-MM-DD/&lt;key&gt;.parquet</c>, dated by processing day (UTC). The worker's own
    /// files are summarised beside them instead (<see cref="DatasetLayout.BesideUtterances"/>).
    /// </summary>
    public static string RelativePath(RecordingSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var key = Core.RecordingKey.For(summary.RecordingId, summary.ETag);
        return $"{DatasetLayout.Summaries}/{DatasetLayout.Partition(AsUtc(summary.ProcessedAtUtc))}/{key}.parquet";
    }
}

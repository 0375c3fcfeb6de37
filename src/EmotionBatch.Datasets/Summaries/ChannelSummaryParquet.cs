using Parquet.Schema;
using static EmotionBatch.Datasets.ParquetFields;
using static EmotionBatch.Datasets.SummaryParquet;

namespace EmotionBatch.Datasets;

/// <summary>Parquet encoding of <see cref="ChannelSummary"/> rows (the <c>channel_summaries</c> dataset, docs/schema.md).</summary>
public static class ChannelSummaryParquet
{
    private static readonly DataField<double> TalkShare = new("talk_share", nullable: false);
    private static readonly DataField<double> OverlapShare = new("overlap_share", nullable: false);
    private static readonly DataField<float> ValenceFirstThird = new("valence_first_third", nullable: true);
    private static readonly DataField<float> ValenceLastThird = new("valence_last_third", nullable: true);
    private static readonly DataField<int> LongestNegativeRun = new("longest_negative_run", nullable: false);
    private static readonly DataField<double> LongestNegativeRunSeconds = new("longest_negative_run_seconds", nullable: false);

    public static ParquetSchema Schema { get; } = new(
        RecordingId, RecordingUri, ETag, Channel, SpeakerRole, DurationSeconds, SpeechSeconds, TalkShare, OverlapShare, Utterances,
        DominantEmotion, ShareAngry, ShareHappy, ShareSad, ShareNeutral, MeanValence, MeanArousal, ValenceFirstThird, ValenceLastThird,
        LongestNegativeRun, LongestNegativeRunSeconds, ModelName, ModelVersion, ProcessedAt);

    /// <summary>One Parquet file holding <paramref name="summaries"/> in one row group.</summary>
    public static Task WriteAsync(IReadOnlyList<ChannelSummary> summaries, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        return WriteFileAsync(Schema, destination, async group =>
        {
            await WriteStringsAsync(group, RecordingId, summaries, s => s.RecordingId, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, RecordingUri, summaries, s => s.RecordingUri, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, ETag, summaries, s => s.ETag, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, Channel, summaries, s => s.Channel, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, SpeakerRole, summaries, s => s.SpeakerRole, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, DurationSeconds, summaries, s => s.DurationSeconds, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, SpeechSeconds, summaries, s => s.SpeechSeconds, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, TalkShare, summaries, s => s.TalkShare, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, OverlapShare, summaries, s => s.OverlapShare, cancellationToken).ConfigureAwait(false);
            await WriteEmotionColumnsAsync(group, summaries, s => s.Utterances, s => s.DominantEmotion,
                s => (s.ShareAngry, s.ShareHappy, s.ShareSad, s.ShareNeutral), s => (s.MeanValence, s.MeanArousal), cancellationToken).ConfigureAwait(false);
            await WriteNullableAsync(group, ValenceFirstThird, summaries, s => s.ValenceFirstThird, cancellationToken).ConfigureAwait(false);
            await WriteNullableAsync(group, ValenceLastThird, summaries, s => s.ValenceLastThird, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, LongestNegativeRun, summaries, s => s.LongestNegativeRun, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, LongestNegativeRunSeconds, summaries, s => s.LongestNegativeRunSeconds, cancellationToken).ConfigureAwait(false);
            await WriteModelColumnsAsync(group, summaries, s => (s.ModelName, s.ModelVersion, s.ProcessedAtUtc), cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }
}

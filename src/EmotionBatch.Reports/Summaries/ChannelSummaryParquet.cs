using EmotionBatch.Reports.Dataset;
using Parquet;
using Parquet.Schema;
using static EmotionBatch.Reports.Summaries.SummaryParquet;

namespace EmotionBatch.Reports.Summaries;

/// <summary>Parquet encoding of <see cref="ChannelSummary"/> rows (the <c>channel_summaries</c> dataset, docs/schema.md).</summary>
public static class ChannelSummaryParquet
{
    public const string FolderName = "channel_summaries";

    private static readonly DataField<int> Channel = new(UtteranceColumns.Channel, nullable: false);
    private static readonly DataField<string> SpeakerRole = new(UtteranceColumns.SpeakerRole, nullable: true);
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
    public static byte[] Serialize(IReadOnlyList<ChannelSummary> summaries) => ToBytes(buffer => SerializeAsync(summaries, buffer, CancellationToken.None));

    public static async Task SerializeAsync(IReadOnlyList<ChannelSummary> summaries, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(destination);
        await using var writer = await ParquetWriter.CreateAsync(Schema, destination, null, false, cancellationToken).ConfigureAwait(false);
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(RecordingId, summaries.Select(s => s.RecordingId).ToArray()).ConfigureAwait(false);
        await group.WriteAsync(RecordingUri, summaries.Select(s => s.RecordingUri).ToArray()).ConfigureAwait(false);
        await group.WriteAsync(ETag, summaries.Select(s => s.ETag).ToArray()).ConfigureAwait(false);
        await WriteAsync(group, Channel, summaries, s => s.Channel, cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(SpeakerRole, summaries.Select(s => s.SpeakerRole).ToArray()!).ConfigureAwait(false);
        await WriteAsync(group, DurationSeconds, summaries, s => s.DurationSeconds, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, SpeechSeconds, summaries, s => s.SpeechSeconds, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, TalkShare, summaries, s => s.TalkShare, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, OverlapShare, summaries, s => s.OverlapShare, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, Utterances, summaries, s => s.Utterances, cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(DominantEmotion, summaries.Select(s => s.DominantEmotion).ToArray()!).ConfigureAwait(false);
        await WriteAsync(group, ShareAngry, summaries, s => s.ShareAngry, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, ShareHappy, summaries, s => s.ShareHappy, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, ShareSad, summaries, s => s.ShareSad, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, ShareNeutral, summaries, s => s.ShareNeutral, cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(group, MeanValence, summaries, s => s.MeanValence, cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(group, MeanArousal, summaries, s => s.MeanArousal, cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(group, ValenceFirstThird, summaries, s => s.ValenceFirstThird, cancellationToken).ConfigureAwait(false);
        await WriteNullableAsync(group, ValenceLastThird, summaries, s => s.ValenceLastThird, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, LongestNegativeRun, summaries, s => s.LongestNegativeRun, cancellationToken).ConfigureAwait(false);
        await WriteAsync(group, LongestNegativeRunSeconds, summaries, s => s.LongestNegativeRunSeconds, cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(ModelName, summaries.Select(s => s.ModelName).ToArray()).ConfigureAwait(false);
        await group.WriteAsync(ModelVersion, summaries.Select(s => s.ModelVersion).ToArray()).ConfigureAwait(false);
        await WriteAsync(group, ProcessedAt, summaries, s => ParquetColumns.AsUtc(s.ProcessedAtUtc), cancellationToken).ConfigureAwait(false);
        group.CompleteValidate();
    }
}

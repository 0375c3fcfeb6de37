using EmotionBatch.Reports.Dataset;
using Parquet;
using Parquet.Schema;

namespace EmotionBatch.Reports.Summaries;

/// <summary>Parquet encoding of <see cref="ChannelSummary"/> rows (the <c>channel_summaries</c> dataset, docs/schema.md).</summary>
public static class ChannelSummaryParquet
{
    public const string FolderName = "channel_summaries";

    private static readonly DataField<string> RecordingId = new(SummaryColumns.RecordingId, nullable: false);
    private static readonly DataField<string> RecordingUri = new(SummaryColumns.RecordingUri, nullable: false);
    private static readonly DataField<string> ETag = new(SummaryColumns.ETag, nullable: false);
    private static readonly DataField<int> Channel = new(UtteranceColumns.Channel, nullable: false);
    private static readonly DataField<string> SpeakerRole = new(UtteranceColumns.SpeakerRole, nullable: true);
    private static readonly DataField<double> DurationSeconds = new(SummaryColumns.DurationSeconds, nullable: false);
    private static readonly DataField<double> SpeechSeconds = new(SummaryColumns.SpeechSeconds, nullable: false);
    private static readonly DataField<double> TalkShare = new("talk_share", nullable: false);
    private static readonly DataField<double> OverlapShare = new("overlap_share", nullable: false);
    private static readonly DataField<int> Utterances = new(SummaryColumns.Utterances, nullable: false);
    private static readonly DataField<string> DominantEmotion = new(SummaryColumns.DominantEmotion, nullable: true);
    private static readonly DataField<float> ShareAngry = new(SummaryColumns.ShareAngry, nullable: false);
    private static readonly DataField<float> ShareHappy = new(SummaryColumns.ShareHappy, nullable: false);
    private static readonly DataField<float> ShareSad = new(SummaryColumns.ShareSad, nullable: false);
    private static readonly DataField<float> ShareNeutral = new(SummaryColumns.ShareNeutral, nullable: false);
    private static readonly DataField<float> MeanValence = new(SummaryColumns.MeanValence, nullable: true);
    private static readonly DataField<float> MeanArousal = new(SummaryColumns.MeanArousal, nullable: true);
    private static readonly DataField<float> ValenceFirstThird = new("valence_first_third", nullable: true);
    private static readonly DataField<float> ValenceLastThird = new("valence_last_third", nullable: true);
    private static readonly DataField<int> LongestNegativeRun = new("longest_negative_run", nullable: false);
    private static readonly DataField<double> LongestNegativeRunSeconds = new("longest_negative_run_seconds", nullable: false);
    private static readonly DataField<string> ModelName = new(SummaryColumns.ModelName, nullable: false);
    private static readonly DataField<string> ModelVersion = new(SummaryColumns.ModelVersion, nullable: false);
    private static readonly DateTimeDataField ProcessedAt = new(
        SummaryColumns.ProcessedAt, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);

    public static ParquetSchema Schema { get; } = new(
        RecordingId, RecordingUri, ETag, Channel, SpeakerRole, DurationSeconds, SpeechSeconds, TalkShare, OverlapShare, Utterances,
        DominantEmotion, ShareAngry, ShareHappy, ShareSad, ShareNeutral, MeanValence, MeanArousal, ValenceFirstThird, ValenceLastThird,
        LongestNegativeRun, LongestNegativeRunSeconds, ModelName, ModelVersion, ProcessedAt);

    /// <summary>One Parquet file holding <paramref name="summaries"/> in one row group.</summary>
    public static byte[] Serialize(IReadOnlyList<ChannelSummary> summaries)
    {
        using var buffer = new MemoryStream();
        // The writer is asynchronous only; a memory stream completes synchronously, so this cannot deadlock.
        SerializeAsync(summaries, buffer, CancellationToken.None).GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    public static async Task SerializeAsync(IReadOnlyList<ChannelSummary> summaries, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(destination);
        await using var writer = await ParquetWriter.CreateAsync(Schema, destination, null, false, cancellationToken).ConfigureAwait(false);
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(RecordingId, summaries.Select(s => s.RecordingId).ToArray()).ConfigureAwait(false);
        await group.WriteAsync(RecordingUri, summaries.Select(s => s.RecordingUri).ToArray()).ConfigureAwait(false);
        await group.WriteAsync(ETag, summaries.Select(s => s.ETag).ToArray()).ConfigureAwait(false);
        await Values(group, Channel, summaries, s => s.Channel, cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(SpeakerRole, summaries.Select(s => s.SpeakerRole).ToArray()!).ConfigureAwait(false);
        await Values(group, DurationSeconds, summaries, s => s.DurationSeconds, cancellationToken).ConfigureAwait(false);
        await Values(group, SpeechSeconds, summaries, s => s.SpeechSeconds, cancellationToken).ConfigureAwait(false);
        await Values(group, TalkShare, summaries, s => s.TalkShare, cancellationToken).ConfigureAwait(false);
        await Values(group, OverlapShare, summaries, s => s.OverlapShare, cancellationToken).ConfigureAwait(false);
        await Values(group, Utterances, summaries, s => s.Utterances, cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(DominantEmotion, summaries.Select(s => s.DominantEmotion).ToArray()!).ConfigureAwait(false);
        await Values(group, ShareAngry, summaries, s => s.ShareAngry, cancellationToken).ConfigureAwait(false);
        await Values(group, ShareHappy, summaries, s => s.ShareHappy, cancellationToken).ConfigureAwait(false);
        await Values(group, ShareSad, summaries, s => s.ShareSad, cancellationToken).ConfigureAwait(false);
        await Values(group, ShareNeutral, summaries, s => s.ShareNeutral, cancellationToken).ConfigureAwait(false);
        await Nullable(group, MeanValence, summaries, s => s.MeanValence, cancellationToken).ConfigureAwait(false);
        await Nullable(group, MeanArousal, summaries, s => s.MeanArousal, cancellationToken).ConfigureAwait(false);
        await Nullable(group, ValenceFirstThird, summaries, s => s.ValenceFirstThird, cancellationToken).ConfigureAwait(false);
        await Nullable(group, ValenceLastThird, summaries, s => s.ValenceLastThird, cancellationToken).ConfigureAwait(false);
        await Values(group, LongestNegativeRun, summaries, s => s.LongestNegativeRun, cancellationToken).ConfigureAwait(false);
        await Values(group, LongestNegativeRunSeconds, summaries, s => s.LongestNegativeRunSeconds, cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(ModelName, summaries.Select(s => s.ModelName).ToArray()).ConfigureAwait(false);
        await group.WriteAsync(ModelVersion, summaries.Select(s => s.ModelVersion).ToArray()).ConfigureAwait(false);
        await Values(group, ProcessedAt, summaries, s => ParquetColumns.AsUtc(s.ProcessedAtUtc), cancellationToken).ConfigureAwait(false);
        group.CompleteValidate();
    }

    private static Task Values<T>(ParquetRowGroupWriter group, DataField field, IReadOnlyList<ChannelSummary> summaries, Func<ChannelSummary, T> select, CancellationToken cancellationToken)
        where T : struct =>
        group.WriteAsync(field, (ReadOnlyMemory<T>)summaries.Select(select).ToArray(), null, null, cancellationToken);

    private static Task Nullable<T>(ParquetRowGroupWriter group, DataField field, IReadOnlyList<ChannelSummary> summaries, Func<ChannelSummary, T?> select, CancellationToken cancellationToken)
        where T : struct =>
        group.WriteAsync(field, (ReadOnlyMemory<T?>)summaries.Select(select).ToArray(), null, null, cancellationToken);
}

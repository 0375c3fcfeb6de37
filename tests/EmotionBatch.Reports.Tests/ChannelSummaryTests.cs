using EmotionBatch.Core;
using EmotionBatch.Datasets;
using EmotionBatch.Testing;

namespace EmotionBatch.Reports.Tests;

[Trait("Category", "Fast")]
public sealed class ChannelSummaryTests
{
    private static UtteranceRow Row(int channel, double start, double end, string emotion, float valence, bool overlap = false) =>
        RecordingSummaryTests.Row(0, start, end, emotion, valence, 0.1f) with
        {
            Channel = channel,
            SpeakerRole = channel == 0 ? "agent" : "customer",
            Overlap = overlap,
        };

    [Fact]
    public void Each_party_gets_its_talk_share_trajectory_overlap_and_longest_negative_run()
    {
        // A 30 s call: thirds end at 10 and 20 s.
        UtteranceRow[] rows =
        [
            Row(0, 0, 4, EmotionLabels.Neutral, 0.2f),
            Row(1, 4, 8, EmotionLabels.Happy, 0.6f),
            Row(0, 9, 13, EmotionLabels.Neutral, 0.1f, overlap: true),
            Row(1, 12, 16, EmotionLabels.Angry, -0.5f, overlap: true),
            Row(1, 17, 19, EmotionLabels.Sad, -0.4f),
            Row(1, 21, 25, EmotionLabels.Angry, -0.6f),
            Row(0, 26, 28, EmotionLabels.Happy, 0.4f),
        ];

        var summaries = ChannelSummary.From(rows, 30);

        Assert.Equal([0, 1], summaries.Select(s => s.Channel));
        var (agent, customer) = (summaries[0], summaries[1]);
        Assert.Equal(("agent", "customer"), (agent.SpeakerRole, customer.SpeakerRole));
        Assert.Equal(10, agent.SpeechSeconds, 9);
        Assert.Equal(14, customer.SpeechSeconds, 9);
        Assert.Equal(10 / 24.0, agent.TalkShare, 9);
        Assert.Equal(14 / 24.0, customer.TalkShare, 9);
        // Only 12-13 s is shared (the agent's 9-13 s turn and the customer's 12-16 s one).
        Assert.Equal(1 / 10.0, agent.OverlapShare, 9);
        Assert.Equal(1 / 14.0, customer.OverlapShare, 9);
        // Customer: happy early (6 s mid), angry late (23 s mid): valence fell.
        Assert.Equal(0.6f, customer.ValenceFirstThird!.Value, 5);
        Assert.Equal(-0.6f, customer.ValenceLastThird!.Value, 5);
        // Angry, sad, angry in a row: three utterances from 12 to 25 s.
        Assert.Equal(3, customer.LongestNegativeRun);
        Assert.Equal(13, customer.LongestNegativeRunSeconds, 9);
        Assert.Equal(0, agent.LongestNegativeRun);
        Assert.Equal(4, customer.Utterances);
        Assert.Equal(3, agent.Utterances);
        Assert.Equal(EmotionLabels.Angry, customer.DominantEmotion);
    }

    [Fact]
    public void A_mixed_recording_has_one_row_without_role_and_a_silent_third_has_no_valence()
    {
        UtteranceRow[] rows =
        [
            RecordingSummaryTests.Row(0, 1, 3, EmotionLabels.Sad, -0.3f, 0.1f),
            RecordingSummaryTests.Row(1, 4, 6, EmotionLabels.Neutral, 0.1f, 0.1f),
        ];

        var only = Assert.Single(ChannelSummary.From(rows, 30));

        Assert.Equal(0, only.Channel);
        Assert.Null(only.SpeakerRole);
        Assert.Equal(1.0, only.TalkShare);
        Assert.Equal(0, only.OverlapShare);
        Assert.NotNull(only.ValenceFirstThird);
        Assert.Null(only.ValenceLastThird);
        Assert.Equal(1, only.LongestNegativeRun);
    }

    [Fact]
    public async Task Channel_summaries_read_back_with_duckdb()
    {
        using var temp = RepoPaths.NewTempFolder("channel-summaries");
        var path = temp.File("c.parquet");
        await AtomicFile.WriteAsync(path, (stream, token) => ChannelSummaryParquet.WriteAsync(ChannelSummary.From([Row(0, 0, 2, EmotionLabels.Happy, 0.5f), Row(1, 3, 5, EmotionLabels.Sad, -0.5f)], 6), stream, token), CancellationToken.None);

        var rows = DuckDbParquet.ReadRows(path, orderBy: "channel", hivePartitioning: false);

        Assert.Equal(["agent", "customer"], rows.Select(r => (string)r["speaker_role"]!));
        Assert.Equal(0.5, (double)rows[0]["talk_share"]!, 9);
        Assert.Null(rows[1]["valence_first_third"]);
        Assert.Equal(-0.5f, (float)rows[1]["valence_last_third"]!);
        Assert.Equal(1, rows[1]["longest_negative_run"]);
    }
}

[Trait("Category", "Fast")]
public sealed class ConversationTimelineTests
{
    [Fact]
    public void Rows_of_all_channels_are_ordered_numbered_once_and_overlap_needs_a_quarter_second()
    {
        UtteranceRow[] rows =
        [
            // Per-channel indexes as the VADs gave them, arriving channel by channel.
            RecordingSummaryTests.Row(0, 0.0, 3.0, EmotionLabels.Neutral, 0, 0) with { Channel = 0 },
            RecordingSummaryTests.Row(1, 5.0, 8.0, EmotionLabels.Neutral, 0, 0) with { Channel = 0 },
            RecordingSummaryTests.Row(0, 2.9, 4.5, EmotionLabels.Neutral, 0, 0) with { Channel = 1 },
            RecordingSummaryTests.Row(1, 7.0, 9.0, EmotionLabels.Neutral, 0, 0) with { Channel = 1 },
        ];

        var timeline = ConversationTimeline.Arrange(rows);

        Assert.Equal([0, 1, 2, 3], timeline.Select(r => r.UtteranceIndex));
        Assert.Equal([0.0, 2.9, 5.0, 7.0], timeline.Select(r => r.StartSeconds));
        Assert.Equal([0, 1, 0, 1], timeline.Select(r => r.Channel));
        // 0.1 s shared at a turn change is padding, not overlap; a full second is overlap, on both sides.
        Assert.Equal([false, false, true, true], timeline.Select(r => r.Overlap));
        // The same channel never overlaps itself.
        Assert.DoesNotContain(ConversationTimeline.Arrange(rows.Select(r => r with { Channel = 0 })), r => r.Overlap);
    }
}

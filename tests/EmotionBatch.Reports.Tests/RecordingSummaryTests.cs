using EmotionBatch.Core;
using EmotionBatch.Datasets;

namespace EmotionBatch.Reports.Tests;

[Trait("Category", "Fast")]
public sealed class RecordingSummaryTests
{
    private static readonly DateTime Processed = new(2026, 11, 24, 2, 0, 0, DateTimeKind.Utc);

    internal static UtteranceRow Row(int index, double start, double end, string emotion, float valence, float arousal, string id = "rec.wav", string etag = "e1") =>
        new(id, $"file:///r/{id}", etag, index, start, end, null, null, emotion, 0.25f, 0.25f, 0.25f, 0.25f, valence, arousal,
            false, "emotionbatch-default", "1.0.0", Processed.AddSeconds(index));

    // angry 2 s + 1 s, neutral 1 s, happy 3.5 s: happy dominates by time although angry has more utterances.
    internal static readonly IReadOnlyList<UtteranceRow> Known =
    [
        Row(0, 0.0, 2.0, "angry", -0.8f, 0.6f),
        Row(1, 3.0, 4.0, "neutral", 0.0f, 0.0f),
        Row(2, 5.0, 8.5, "happy", 0.6f, 0.4f),
        Row(3, 10.0, 11.0, "angry", -0.4f, 0.8f),
    ];

    [Fact]
    public void Weighs_by_duration()
    {
        var s = RecordingSummary.From(Known, 20.0);

        Assert.Equal("rec.wav", s.RecordingId);
        Assert.Equal("e1", s.ETag);
        Assert.Equal(20.0, s.DurationSeconds);
        Assert.Equal(7.5, s.SpeechSeconds, 9);
        Assert.Equal(0.375, s.SpeechShare, 9);
        Assert.Equal(4, s.Utterances);
        Assert.Equal("happy", s.DominantEmotion);
        Assert.Equal(3.0 / 7.5, s.ShareAngry, 5);
        Assert.Equal(3.5 / 7.5, s.ShareHappy, 5);
        Assert.Equal(0.0, s.ShareSad, 5);
        Assert.Equal(1.0 / 7.5, s.ShareNeutral, 5);
        Assert.Equal((2 * -0.8 + 3.5 * 0.6 + 1 * -0.4) / 7.5, s.MeanValence!.Value, 5); // 0.01333
        Assert.Equal((2 * 0.6 + 3.5 * 0.4 + 1 * 0.8) / 7.5, s.MeanArousal!.Value, 5);   // 0.45333
        Assert.Equal(1.0, s.ShareAngry + s.ShareHappy + s.ShareSad + s.ShareNeutral, 5);
        Assert.Equal("emotionbatch-default", s.ModelName);
        Assert.Equal(Processed.AddSeconds(3), s.ProcessedAtUtc);
    }

    [Fact]
    public void Unknown_duration_ends_with_the_last_utterance_and_order_does_not_matter()
    {
        var s = RecordingSummary.From(Known.Reverse().ToList(), null);

        Assert.Equal(11.0, s.DurationSeconds);
        Assert.Equal(7.5 / 11.0, s.SpeechShare, 9);
        Assert.Equal("happy", s.DominantEmotion);
    }

    [Fact]
    public void Overlapping_padding_counts_once_as_speech()
    {
        var s = RecordingSummary.From([Row(0, 0, 2, "sad", -0.5f, -0.5f), Row(1, 1.5, 3, "sad", -0.5f, -0.5f)], 4);

        Assert.Equal(3.0, s.SpeechSeconds, 9);
        Assert.Equal(0.75, s.SpeechShare, 9);
        Assert.Equal(1.0, s.ShareSad, 5);
    }

    [Fact]
    public void Ties_go_to_the_earlier_label()
    {
        var s = RecordingSummary.From([Row(0, 0, 2, "neutral", 0, 0), Row(1, 2, 4, "happy", 0.5f, 0.5f)], null);
        Assert.Equal("happy", s.DominantEmotion);
    }

    [Fact]
    public void Rejects_rows_of_several_recordings_and_empty_input()
    {
        Assert.Throws<ArgumentException>(() => RecordingSummary.From([Row(0, 0, 1, "sad", 0, 0), Row(1, 1, 2, "sad", 0, 0, id: "other.wav")], null));
        Assert.Throws<ArgumentException>(() => RecordingSummary.From([Row(0, 0, 1, "sad", 0, 0), Row(1, 1, 2, "sad", 0, 0, etag: "e2")], null));
        Assert.Throws<ArgumentException>(() => RecordingSummary.From([], null));
    }

    [Fact]
    public void No_speech_has_no_dominant_emotion()
    {
        var s = RecordingSummary.ForNoSpeech("quiet.wav", "file:///quiet.wav", "e9", 30, "m", "1", Processed);
        Assert.Null(s.DominantEmotion);
        Assert.Null(s.MeanValence);
        Assert.Equal(0, s.Utterances);
        Assert.Equal(0, s.SpeechShare);
    }
}

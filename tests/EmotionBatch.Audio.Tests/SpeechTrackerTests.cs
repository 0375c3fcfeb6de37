namespace EmotionBatch.Audio.Tests;

/// <summary>The hysteresis and splitting rules on synthetic probabilities (one value per 32 ms window).</summary>
[Trait("Category", "Fast")]
public sealed class SpeechTrackerTests
{
    private const int W = SpeechTracker.WindowSamples;
    private const int Rate = 16_000;

    private static List<SampleSpan> Run(VadOptions options, params (float P, int Windows)[] runs)
    {
        var tracker = new SpeechTracker(options, options.Threshold, Rate);
        var spans = new List<SampleSpan>();
        long at = 0;
        foreach (var (p, windows) in runs)
        {
            for (var i = 0; i < windows; i++, at += W)
            {
                if (tracker.Push(at, p, out var span))
                {
                    spans.Add(span);
                }
            }
        }
        if (tracker.Finish(at, out var last))
        {
            spans.Add(last);
        }
        return spans;
    }

    private static VadOptions NoPadding() => new() { PaddingMs = 0 };

    [Fact]
    public void Probabilities_between_the_two_thresholds_keep_speech_going()
    {
        // 0.4 is below 0.5 (cannot start speech) but above 0.35 (cannot end it).
        var spans = Run(NoPadding(), (0f, 10), (0.9f, 20), (0.4f, 40), (0.9f, 20), (0f, 30));

        Assert.Equal([new SampleSpan(10 * W, 90 * W)], spans);
    }

    [Fact]
    public void Probabilities_between_the_thresholds_never_start_speech()
    {
        Assert.Empty(Run(NoPadding(), (0.45f, 100)));
    }

    [Fact]
    public void Pauses_shorter_than_min_silence_stay_inside_the_utterance()
    {
        // 9 windows = 288 ms < 300 ms; 10 windows = 320 ms ends it.
        Assert.Single(Run(NoPadding(), (0.9f, 20), (0.1f, 9), (0.9f, 20), (0f, 20)));
        Assert.Equal(2, Run(NoPadding(), (0.9f, 20), (0.1f, 10), (0.9f, 20), (0f, 20)).Count);
    }

    [Fact]
    public void Speech_shorter_than_min_speech_is_dropped()
    {
        // 7 windows = 224 ms < 250 ms; 8 windows = 256 ms is kept.
        Assert.Empty(Run(NoPadding(), (0f, 5), (0.9f, 7), (0f, 20)));
        Assert.Single(Run(NoPadding(), (0f, 5), (0.9f, 8), (0f, 20)));
    }

    [Fact]
    public void Padding_is_added_and_clamped_to_the_recording()
    {
        var options = new VadOptions { PaddingMs = 100 };
        var spans = Run(options, (0.9f, 20), (0f, 20), (0.9f, 20));

        Assert.Equal(new SampleSpan(0, 20 * W + 1600), spans[0]);
        Assert.Equal(new SampleSpan(40 * W - 1600, 60 * W), spans[1]);
    }

    [Fact]
    public void Long_speech_is_split_at_the_lowest_probability_of_its_last_third()
    {
        // Max 3 s = 93.75 windows: a dip at window 70 (in the last third) is where the cut goes, not at a dip at 20.
        var options = new VadOptions { PaddingMs = 0, MaxUtteranceSeconds = 3 };
        var spans = Run(options, (0.95f, 20), (0.6f, 1), (0.95f, 49), (0.5f, 1), (0.95f, 60), (0f, 20));

        Assert.Equal(new SampleSpan(0, 70 * W), spans[0]);
        Assert.Equal(70 * W, spans[1].Start);
        Assert.All(spans, s => Assert.True(s.End - s.Start <= 3 * Rate));
    }

    [Fact]
    public void The_tail_of_a_split_utterance_is_kept_even_when_short()
    {
        // Split near 3 s, then 3 more speech windows (96 ms, under MinSpeech) before the silence: still speech.
        var options = new VadOptions { PaddingMs = 0, MaxUtteranceSeconds = 3 };
        var spans = Run(options, (0.95f, 94), (0.95f, 3), (0f, 20));

        Assert.Equal(2, spans.Count);
        Assert.Equal(spans[0].End, spans[1].Start);
        Assert.Equal(97 * W, spans[1].End);
    }

    [Fact]
    public void Speech_still_open_at_the_end_is_closed_at_the_end()
    {
        var spans = Run(new VadOptions { PaddingMs = 100 }, (0f, 20), (0.9f, 30));

        Assert.Equal([new SampleSpan(20 * W - 1600, 50 * W)], spans);
    }
}

using EmotionBatch.Core;

namespace EmotionBatch.Transcription.Tests;

/// <summary>Packing utterances into recognition windows and mapping the segments back, with a recogniser stand-in.</summary>
[Trait("Category", "Fast")]
public sealed class PackedTranscriberTests
{
    private const int Rate = IAudioDecoder.SampleRate;

    [Fact]
    public async Task Utterances_share_one_window_and_each_gets_the_segments_over_it()
    {
        // Pieces in the window: u0 0-2 s, gap, u1 2.3-5.3 s, gap, u2 5.6-6.6 s.
        var recognizer = new StandIn((window, call) =>
        [
            new(0.1, 1.9, " hello there", "en"),
            new(2.4, 5.2, " how are you", "en"),
            new(5.7, 6.5, " fine", "en"),
        ]);
        var transcriber = new PackedTranscriber(recognizer, packSeconds: 30);

        var transcripts = await transcriber.TranscribeAsync([Speech(0, 2), Speech(1, 3), Speech(2, 1)], CancellationToken.None);

        Assert.Equal(["hello there", "how are you", "fine"], transcripts.Select(t => t!.Text));
        Assert.All(transcripts, t => Assert.Equal("en", t!.Language));
        var window = Assert.Single(recognizer.Windows);
        Assert.Equal((int)((2 + 3 + 1 + 2 * PackedWindows.GapSeconds) * Rate), window.Length);
        // The gaps are silence; the utterances' own samples are in place.
        Assert.All(window.AsSpan(2 * Rate, (int)(PackedWindows.GapSeconds * Rate)).ToArray(), s => Assert.Equal(0f, s));
        Assert.Equal(1f, window[(int)(2.3 * Rate) + 10]);
    }

    [Fact]
    public async Task A_segment_spanning_two_utterances_is_split_by_the_time_it_shares_with_each()
    {
        // 1.0-4.3 s shares 1 s with u0 (0-2) and 2 s with u1 (2.3-5.3): one word of three to u0, two to u1.
        var recognizer = new StandIn((_, _) => [new(1.0, 4.3, " one two three", "en")]);

        var transcripts = await new PackedTranscriber(recognizer, 30).TranscribeAsync([Speech(0, 2), Speech(1, 3)], CancellationToken.None);

        Assert.Equal(["one", "two three"], transcripts.Select(t => t!.Text));
    }

    [Fact]
    public async Task Segments_in_a_gap_or_past_the_window_go_to_the_nearest_utterance_and_an_empty_window_gives_nothing()
    {
        var recognizer = new StandIn((_, call) => call switch
        {
            0 => [new(2.05, 2.2, " gap", null), new(7.0, 9.0, " late", null), new(0.5, 1.0, "[BLANK_AUDIO]", null)],
            _ => [],
        });
        var transcriber = new PackedTranscriber(recognizer, 30, fixedLanguage: "de");

        var first = await transcriber.TranscribeAsync([Speech(0, 2), Speech(1, 3), Speech(2, 1)], CancellationToken.None);
        var empty = await transcriber.TranscribeAsync([Speech(3, 2)], CancellationToken.None);

        Assert.Equal("gap", first[0]!.Text);
        Assert.Equal("de", first[0]!.Language);
        Assert.Null(first[1]);
        Assert.Equal("late", first[2]!.Text);
        Assert.Null(Assert.Single(empty));
    }

    [Fact]
    public async Task Windows_close_at_the_pack_length_and_zero_means_one_call_per_utterance()
    {
        var recognizer = new StandIn((_, _) => []);
        // 2 + 0.3 + 3 = 5.3 s does not fit 5 s: two windows.
        await new PackedTranscriber(recognizer, 5).TranscribeAsync([Speech(0, 2), Speech(1, 3)], CancellationToken.None);
        Assert.Equal([2 * Rate, 3 * Rate], recognizer.Windows.Select(w => w.Length));

        recognizer.Windows.Clear();
        await new PackedTranscriber(recognizer, 0).TranscribeAsync([Speech(0, 0.5), Speech(1, 1), Speech(2, 2)], CancellationToken.None);
        // One call each; the short ones padded to Whisper's minimum.
        Assert.Equal([PackedTranscriber.MinimumSamples, PackedTranscriber.MinimumSamples, 2 * Rate], recognizer.Windows.Select(w => w.Length));
    }

    [Fact]
    public async Task An_utterance_longer_than_a_window_is_transcribed_in_pieces_and_joined()
    {
        var recognizer = new StandIn((window, call) => [new(0, window.Length / (double)Rate, call == 0 ? " first part" : " one two three four five six", "en")]);

        var transcripts = await new PackedTranscriber(recognizer, 30).TranscribeAsync([Speech(0, 40), Speech(1, 2)], CancellationToken.None);

        Assert.Equal([30 * Rate, (int)((10 + PackedWindows.GapSeconds + 2) * Rate)], recognizer.Windows.Select(w => w.Length));
        // The second window's one segment covers the long utterance's 10 s tail and the next 2 s utterance: split by time.
        Assert.Equal("first part one two three four five", transcripts[0]!.Text);
        Assert.Equal("six", transcripts[1]!.Text);
    }

    [Fact]
    public async Task Without_a_recogniser_every_transcript_is_null()
    {
        var transcriber = new PackedTranscriber(null, 30);
        Assert.False(transcriber.IsEnabled);
        Assert.Equal([null, null], await transcriber.TranscribeAsync([Speech(0, 1), Speech(1, 1)], CancellationToken.None));
    }

    private static Utterance Speech(int index, double seconds) =>
        new(index, index * 10, index * 10 + seconds, Enumerable.Repeat(1f, (int)(seconds * Rate)).ToArray());

    private sealed class StandIn(Func<float[], int, IReadOnlyList<RecognizedSegment>> answer) : IWindowRecognizer
    {
        public List<float[]> Windows { get; } = [];

        public Task<IReadOnlyList<RecognizedSegment>> RecognizeAsync(float[] window, CancellationToken cancellationToken)
        {
            Windows.Add(window);
            return Task.FromResult(answer(window, Windows.Count - 1));
        }
    }
}

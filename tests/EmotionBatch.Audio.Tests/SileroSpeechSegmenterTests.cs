using EmotionBatch.Core;
using EmotionBatch.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Audio.Tests;

public sealed class SileroSpeechSegmenterTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private const int Rate = IAudioDecoder.SampleRate;
    private const double Tolerance = 0.15;

    // Measured once on jfk.wav with the default options (threshold 0.5, min speech 250 ms, min silence 300 ms,
    // padding 100 ms) and Silero v6.2: 0.252-2.340, 3.196-4.516, 5.308-7.748, 8.092-10.692 s.
    // whisper.cpp's VAD (30 ms padding) finds 0.32-2.27, 3.27-4.41, 5.38-7.68, 8.16-10.62 s: ours is that plus padding.
    private static readonly (double Start, double End)[] JfkExpected = [(0.252, 2.340), (3.196, 4.516), (5.308, 7.748), (8.092, 10.692)];

    // Speech as whisper.cpp's VAD sees it, and the middle of the long pauses between.
    private static readonly (double Start, double End)[] JfkSpeech = [(0.32, 2.27), (3.27, 4.41), (5.38, 7.68), (8.16, 10.62)];
    private static readonly double[] JfkPauses = [2.8, 4.9, 7.95];

    private static readonly Lazy<Task<float[]>> Jfk = new(async () => (await Signal.DecodeAllAsync(RepoPaths.JfkWav)).Samples);

    private static readonly Lazy<Task<float[]>> SpeechCorpus = new(async () =>
    {
        var random = new Random(11);
        var clips = Directory.GetFiles(RepoPaths.SharedFile("data", "emodb", "wav"), "*.wav").Order(StringComparer.Ordinal).Take(60);
        // Emo-DB is 22.05 kHz: ffmpeg resamples, two files at a time.
        var decoded = new List<float[]>();
        foreach (var pair in clips.Chunk(2))
        {
            decoded.AddRange((await Task.WhenAll(pair.Select(c => Signal.DecodeAllAsync(c)))).Select(d => d.Samples));
        }
        var samples = new List<float>();
        foreach (var clip in decoded)
        {
            var gap = (int)(Rate * (0.2 + random.NextDouble() * 1.3));
            samples.AddRange(Enumerable.Range(0, gap).Select(_ => (float)((random.NextDouble() - 0.5) * 0.002)));
            samples.AddRange(clip);
        }
        return samples.ToArray();
    });

    private static SileroSpeechSegmenter Segmenter(VadOptions? options = null)
    {
        options ??= new VadOptions();
        options.ModelPath = RepoPaths.SileroVadOnnx;
        return new SileroSpeechSegmenter(Options.Create(options), NullLogger<SileroSpeechSegmenter>.Instance);
    }

    private static async Task<List<Utterance>> SegmentAsync(SileroSpeechSegmenter segmenter, float[] samples, int chunkSize = Rate, VadPass pass = VadPass.Primary)
    {
        var utterances = new List<Utterance>();
        await foreach (var utterance in segmenter.SegmentAsync(Signal.Chunks(samples, chunkSize), pass, CancellationToken.None))
        {
            utterances.Add(utterance);
        }
        return utterances;
    }

    [Fact]
    public async Task Jfk_boundaries_match_the_measured_ones()
    {
        using var segmenter = Segmenter();
        var utterances = await SegmentAsync(segmenter, await Jfk.Value);

        Assert.Equal(JfkExpected.Length, utterances.Count);
        for (var i = 0; i < utterances.Count; i++)
        {
            Assert.Equal(i, utterances[i].Index);
            Assert.InRange(utterances[i].StartSeconds, JfkExpected[i].Start - Tolerance, JfkExpected[i].Start + Tolerance);
            Assert.InRange(utterances[i].EndSeconds, JfkExpected[i].End - Tolerance, JfkExpected[i].End + Tolerance);
        }
    }

    [Fact]
    public async Task Each_pass_marks_its_utterances_with_its_threshold_and_the_lower_one_hears_at_least_as_much_speech()
    {
        using var segmenter = Segmenter();
        var primary = await SegmentAsync(segmenter, await Jfk.Value);
        var fallback = await SegmentAsync(segmenter, await Jfk.Value, pass: VadPass.Fallback);

        Assert.All(primary, u => Assert.Equal(0.5f, u.VadThreshold));
        Assert.All(fallback, u => Assert.Equal(0.2f, u.VadThreshold));
        // Every stretch the primary pass hears lies inside one of the fallback's (a lower threshold only widens).
        Assert.All(primary, p => Assert.Contains(fallback, f => f.StartSeconds <= p.StartSeconds + 0.05 && f.EndSeconds >= p.EndSeconds - 0.05));
    }

    [Theory]
    [InlineData(0.5f, 0f)]
    [InlineData(0.3f, 0.3f)]
    [InlineData(0.15f, 0.2f)]
    public void There_is_no_fallback_pass_when_it_is_off_or_not_below_the_threshold(float threshold, float fallback)
    {
        var options = new VadOptions { Threshold = threshold, FallbackThreshold = fallback };
        Assert.False(options.HasFallback);
        // Valid all the same: a deployment that already ran at a low threshold keeps starting.
        Assert.True(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), null, validateAllProperties: true));
        using var segmenter = Segmenter(options);
        Assert.Throws<InvalidOperationException>(() => segmenter.SegmentAsync(Signal.Chunks(new float[Rate], Rate), VadPass.Fallback, CancellationToken.None).GetAsyncEnumerator().MoveNextAsync().AsTask().GetAwaiter().GetResult());
    }

    [Fact]
    public void A_fallback_threshold_too_low_for_the_end_of_speech_hysteresis_is_refused()
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        var options = new VadOptions { FallbackThreshold = 0.01f };
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.MemberNames.Contains(nameof(VadOptions.FallbackThreshold)));
    }

    [Fact]
    public async Task Jfk_utterances_cover_the_speech_but_not_the_long_pauses()
    {
        using var segmenter = Segmenter();
        var utterances = await SegmentAsync(segmenter, await Jfk.Value);

        foreach (var (start, end) in JfkSpeech)
        {
            Assert.Contains(utterances, u => u.StartSeconds <= start && u.EndSeconds >= end);
        }
        foreach (var pause in JfkPauses)
        {
            Assert.DoesNotContain(utterances, u => u.StartSeconds <= pause && u.EndSeconds >= pause);
        }
    }

    [Fact]
    public async Task Utterance_samples_are_the_recording_between_its_bounds()
    {
        using var segmenter = Segmenter();
        var samples = await Jfk.Value;
        foreach (var utterance in await SegmentAsync(segmenter, samples))
        {
            var start = (int)Math.Round(utterance.StartSeconds * Rate);
            Assert.Equal((int)Math.Round(utterance.DurationSeconds * Rate), utterance.Samples.Length);
            Assert.Equal(samples.AsSpan(start, utterance.Samples.Length).ToArray(), utterance.Samples);
        }
    }

    [Fact]
    public async Task Window_probabilities_match_the_reference_run()
    {
        // Reference (shared/models/silero-vad/SOURCE-v6-onnx.txt): 233 of 343 windows above 0.5 on jfk.wav, max 1.000.
        using var segmenter = Segmenter();
        var scores = segmenter.ScoreWindows(await Jfk.Value);

        Assert.Equal(343, scores.Length);
        Assert.InRange(scores.Count(p => p > 0.5f), 230, 236);
        Assert.True(scores.Max() > 0.99f);
        Assert.True(segmenter.ScoreWindows(new float[Rate * 2]).Max() < 0.05f);
    }

    [Theory]
    [InlineData(160)]
    [InlineData(1234)]
    [InlineData(100_000)]
    [InlineData(176_000)]
    public async Task Result_does_not_depend_on_chunk_sizes(int chunkSize)
    {
        using var segmenter = Segmenter();
        var samples = await Jfk.Value;
        var reference = await SegmentAsync(segmenter, samples, Rate);
        var other = await SegmentAsync(segmenter, samples, chunkSize);

        Assert.Equal(reference.Select(u => (u.StartSeconds, u.EndSeconds)), other.Select(u => (u.StartSeconds, u.EndSeconds)));
    }

    [Fact]
    public async Task Digital_silence_has_no_utterance()
    {
        using var folder = RepoPaths.NewTempFolder("vad-silence");
        var path = await TestAudio.SilenceAsync(folder.File("silence.wav"), seconds: 5);
        var (samples, _) = await Signal.DecodeAllAsync(path);
        using var segmenter = Segmenter();

        Assert.Equal(5 * Rate, samples.Length);
        Assert.Empty(await SegmentAsync(segmenter, samples));
    }

    [Fact]
    public async Task A_steady_tone_is_not_speech()
    {
        using var folder = RepoPaths.NewTempFolder("vad-tone");
        var path = await TestAudio.ToneAsync(folder.File("tone.wav"), seconds: 4, frequencyHz: 1000, sampleRate: Rate);
        var (samples, _) = await Signal.DecodeAllAsync(path);
        using var segmenter = Segmenter();

        Assert.Empty(await SegmentAsync(segmenter, samples));
    }

    [Fact]
    public async Task Speech_longer_than_the_maximum_is_split_into_touching_parts()
    {
        using var segmenter = Segmenter(new VadOptions { MaxUtteranceSeconds = 2 });
        var utterances = await SegmentAsync(segmenter, await Jfk.Value);

        Assert.All(utterances, u => Assert.True(u.DurationSeconds <= 2.0 + 1e-9, $"{u.StartSeconds}-{u.EndSeconds} is longer than 2 s"));
        Assert.Equal(Enumerable.Range(0, utterances.Count), utterances.Select(u => u.Index));
        // Each 2.1 to 2.6 s stretch of jfk is cut once; the cut leaves no gap.
        var touching = utterances.Zip(utterances.Skip(1)).Count(p => p.First.EndSeconds == p.Second.StartSeconds);
        Assert.True(touching >= 3, $"only {touching} splits: " + string.Join(" ", utterances.Select(u => $"[{u.StartSeconds:0.000}-{u.EndSeconds:0.000}]")));
        foreach (var (start, end) in JfkSpeech)
        {
            var covered = utterances.Where(u => u.EndSeconds > start && u.StartSeconds < end).Sum(u => Math.Min(u.EndSeconds, end) - Math.Max(u.StartSeconds, start));
            Assert.InRange(covered, end - start - 0.05, end - start + 1e-9);
        }
    }

    [Fact]
    public async Task Continuous_speech_without_pauses_is_split_at_the_maximum()
    {
        // jfk's words packed back to back (pauses removed) and repeated: about 40 s with no silence long enough to end.
        using var segmenter = Segmenter();
        var jfk = await Jfk.Value;
        var words = JfkSpeech.SelectMany(s => jfk[(int)(s.Start * Rate)..(int)(s.End * Rate)]).ToArray();
        var samples = Enumerable.Repeat(words, 5).SelectMany(w => w).ToArray();

        var utterances = await SegmentAsync(segmenter, samples);

        Assert.Contains(utterances, u => u.DurationSeconds > 10);
        Assert.All(utterances, u => Assert.True(u.DurationSeconds <= 15 + 1e-9, $"{u.DurationSeconds} s"));
        Assert.InRange(utterances.Sum(u => u.DurationSeconds), samples.Length / (double)Rate - 2, samples.Length / (double)Rate);
    }

    [Fact]
    public async Task Lanes_find_nearly_the_utterances_that_one_window_after_another_finds()
    {
        // Some 170 s of real speech (Emo-DB sentences, seeded gaps and noise): blocks of 8 lanes x 8 s and a short last one.
        // A lane starts from a fresh recurrent state, and Silero's state remembers for seconds, so a borderline window
        // can fall the other way: boundaries may move by a window (32 ms) and a short pause may join two utterances.
        var samples = await SpeechCorpus.Value;
        using var sequential = Segmenter(new VadOptions { Lanes = 1 });
        using var laned = Segmenter(new VadOptions { Lanes = 8, LaneSeconds = 8 });

        var reference = await SegmentAsync(sequential, samples);
        var other = await SegmentAsync(laned, samples);

        var describe = () => $"sequential {reference.Count}: " + string.Join(" ", reference.Select(u => $"[{u.StartSeconds:0.000}-{u.EndSeconds:0.000}]"))
            + $"\nlanes {other.Count}: " + string.Join(" ", other.Select(u => $"[{u.StartSeconds:0.000}-{u.EndSeconds:0.000}]"));
        var identical = reference.Count(r => other.Any(o => o.StartSeconds == r.StartSeconds && o.EndSeconds == r.EndSeconds));
        var matched = reference.Count(r => other.Any(o =>
            Math.Abs(r.StartSeconds - o.StartSeconds) <= 0.033 && Math.Abs(r.EndSeconds - o.EndSeconds) <= 0.033));
        // The comparison quoted in docs/performance.md.
        log.WriteLine($"{reference.Count} sequential, {other.Count} with lanes; {identical} identical, {matched - identical} within a window, " +
            $"{reference.Count - matched} other; speech {reference.Sum(u => u.DurationSeconds):0.00} s against {other.Sum(u => u.DurationSeconds):0.00} s\n" + describe());
        Assert.True(reference.Count >= 50, describe());
        Assert.True(matched >= reference.Count * 0.9, $"{matched} of {reference.Count} matched within a window\n" + describe());
        Assert.InRange(other.Sum(u => u.DurationSeconds), reference.Sum(u => u.DurationSeconds) * 0.98, reference.Sum(u => u.DurationSeconds) * 1.02);
        Assert.Equal(Enumerable.Range(0, other.Count), other.Select(u => u.Index));
    }

    [Fact]
    public async Task Lanes_deliver_utterances_a_block_at_a_time_before_the_stream_ends()
    {
        // Blocks of 1 s warm-up + 4 lanes x 2 s = 9 s; jfk repeated 4 times is 44 s.
        using var segmenter = Segmenter(new VadOptions { Lanes = 4, LaneSeconds = 2 });
        var jfk = await Jfk.Value;

        var (first, readSeconds) = await FirstUtteranceAsync(segmenter, Enumerable.Repeat(jfk, 4).SelectMany(s => s).ToArray());

        Assert.InRange(readSeconds, first.EndSeconds, 9.1);
    }

    [Fact]
    public async Task Utterances_arrive_before_the_stream_ends()
    {
        using var segmenter = Segmenter(new VadOptions { Lanes = 1 });

        var (first, readSeconds) = await FirstUtteranceAsync(segmenter, await Jfk.Value);

        // The first utterance ends at 2.34 s; it is known once 300 ms of silence follow, long before 11 s are read.
        Assert.InRange(readSeconds, first.EndSeconds, first.EndSeconds + 0.6);
    }

    /// <summary>The first utterance, and how much audio had been handed to the segmenter when it came out.</summary>
    private static async Task<(Utterance First, double ReadSeconds)> FirstUtteranceAsync(SileroSpeechSegmenter segmenter, float[] samples)
    {
        var consumed = 0;
        async IAsyncEnumerable<PcmChunk> Counting()
        {
            await foreach (var chunk in Signal.Chunks(samples, Rate / 10))
            {
                consumed += chunk.Samples.Length;
                yield return chunk;
            }
        }

        await foreach (var first in segmenter.SegmentAsync(Counting(), VadPass.Primary, CancellationToken.None))
        {
            return (first, consumed / (double)Rate);
        }
        throw new InvalidOperationException("no utterance at all");
    }

    [Fact]
    public void Missing_model_names_the_path_and_the_fix()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-folder", "silero_vad.onnx");
        var error = Assert.Throws<FileNotFoundException>(() => new SileroSpeechSegmenter(
            Options.Create(new VadOptions { ModelPath = missing }), NullLogger<SileroSpeechSegmenter>.Instance));

        Assert.Contains(missing, error.Message);
        Assert.Contains("bash scripts/fetch-models.sh", error.Message);
        Assert.Equal(error.Message, SileroVadModel.FindProblem(missing));
        Assert.Null(SileroVadModel.FindProblem(RepoPaths.SileroVadOnnx));
    }

    [Fact]
    public void A_model_with_another_interface_is_refused()
    {
        var notSilero = RepoPaths.SharedFile("models", "speech-embedding", "melspectrogram.onnx");

        var error = Assert.Throws<InvalidOperationException>(() => new SileroSpeechSegmenter(
            Options.Create(new VadOptions { ModelPath = notSilero }), NullLogger<SileroSpeechSegmenter>.Instance));
        Assert.Contains("not a Silero VAD", error.Message);
    }
}

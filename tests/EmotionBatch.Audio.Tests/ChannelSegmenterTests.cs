using System.Runtime.CompilerServices;
using EmotionBatch.Core;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Audio.Tests;

[Trait("Category", "Fast")]
public sealed class ChannelSegmenterTests
{
    private const int Frame = EnergyEnvelope.FrameSamples;
    private const int Rate = IAudioDecoder.SampleRate;

    [Fact]
    public void Echo_frames_are_silenced_and_double_talk_is_kept()
    {
        // Four 10 ms frames: A alone; A with its echo on B (-25 dB); both talking (B 6 dB down); silence on both.
        var a = Frames(0.5f, 0.5f, 0.5f, 0f);
        var b = Frames(0f, 0.5f * 0.056f, 0.25f, 0f);

        var gated = new EchoSuppressor(15).Suppress([new PcmChunk(0, a) { Channel = 0 }, new PcmChunk(0, b) { Channel = 1 }]);

        Assert.Same(a, ArrayOf(gated[0]));
        var gatedB = gated[1].Samples.ToArray();
        Assert.All(gatedB.AsSpan(Frame, Frame).ToArray(), s => Assert.Equal(0f, s));
        Assert.Equal(b.AsSpan(2 * Frame, Frame).ToArray(), gatedB.AsSpan(2 * Frame, Frame).ToArray());
        // The input chunk is not changed: the decoder's arrays may be held elsewhere.
        Assert.Equal(0.5f * 0.056f, b[Frame]);
        Assert.Equal(1, gated[1].Channel);

        // A mixed stream passes as it is.
        var mono = new EchoSuppressor(15).Suppress([new PcmChunk(0, a)]);
        Assert.Same(a, ArrayOf(mono[0]));
    }

    [Fact]
    public void Echo_arriving_late_is_silenced_even_after_the_speaker_stops_and_across_stretches()
    {
        var suppressor = new EchoSuppressor(15);
        // Stretch 1: A speaks, B silent. Stretch 2: A silent, B holds A's echo 200 ms late (20 frames of 30).
        suppressor.Suppress([new PcmChunk(0, Frames(Enumerable.Repeat(0.5f, 30).ToArray())) { Channel = 0 }, new PcmChunk(0, new float[30 * Frame]) { Channel = 1 }]);
        var late = Frames([.. Enumerable.Repeat(0.028f, 20), .. Enumerable.Repeat(0f, 10)]);

        var gated = suppressor.Suppress([new PcmChunk(30 * Frame, new float[30 * Frame]) { Channel = 0 }, new PcmChunk(30 * Frame, late) { Channel = 1 }]);

        Assert.All(gated[1].Samples.ToArray(), s => Assert.Equal(0f, s));
    }

    [Fact]
    public async Task Utterances_keep_the_recorded_audio_not_the_gated_copy()
    {
        // Two seconds: A loud throughout; B quiet (an echo-level signal) in its first second, loud in its second.
        var a = Enumerable.Repeat(0.5f, 2 * Rate).ToArray();
        var b = Enumerable.Range(0, 2 * Rate).Select(i => i < Rate ? 0.02f : 0.5f).ToArray();
        var segmenter = new ChannelSegmenter(new WholeStream(), Options.Create(new DecoderOptions()), Options.Create(new VadOptions()));

        var utterances = await Collect(segmenter.SegmentAsync(Stereo(a, b), VadPass.Primary, CancellationToken.None));

        var fromB = Assert.Single(utterances, u => u.Channel == 1);
        // The VAD heard B's first second silenced; the utterance still carries what B recorded.
        Assert.Equal(b, fromB.Samples);
        Assert.Equal(a, Assert.Single(utterances, u => u.Channel == 0).Samples);
    }

    [Fact]
    public async Task A_channel_whose_voice_activity_detection_fails_fails_the_recording_with_its_error()
    {
        var a = new float[30 * Rate];
        var segmenter = new ChannelSegmenter(new FailsOnChannel(1), Options.Create(new DecoderOptions()), Options.Create(new VadOptions()));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => Collect(segmenter.SegmentAsync(Stereo(a, a), VadPass.Primary, timeout.Token)));

        Assert.Equal("VAD failed on channel 1", failure.Message);
        Assert.False(timeout.IsCancellationRequested, "the recording hung until the timeout");
    }

    private static async IAsyncEnumerable<PcmChunk> Stereo(float[] left, float[] right)
    {
        for (var start = 0; start < left.Length; start += Rate / 2)
        {
            var length = Math.Min(Rate / 2, left.Length - start);
            yield return new PcmChunk(start, left.AsMemory(start, length)) { Channel = 0 };
            yield return new PcmChunk(start, right.AsMemory(start, length)) { Channel = 1 };
            await Task.Yield();
        }
    }

    private static async Task<List<Utterance>> Collect(IAsyncEnumerable<Utterance> utterances)
    {
        var list = new List<Utterance>();
        await foreach (var utterance in utterances)
        {
            list.Add(utterance);
        }
        return list;
    }

    private static float[] Frames(params float[] levels) => levels.SelectMany(level => Enumerable.Repeat(level, Frame)).ToArray();

    private static float[] ArrayOf(PcmChunk chunk) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(chunk.Samples, out var segment) ? segment.Array! : [];

    /// <summary>One utterance per stream: everything it was fed, as heard.</summary>
    private sealed class WholeStream : ISpeechSegmenter
    {
        public async IAsyncEnumerable<Utterance> SegmentAsync(IAsyncEnumerable<PcmChunk> pcm, VadPass pass, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var heard = new List<float>();
            await foreach (var chunk in pcm.WithCancellation(cancellationToken))
            {
                heard.AddRange(chunk.Samples.ToArray());
            }
            yield return new Utterance(0, 0, heard.Count / (double)Rate, heard.ToArray());
        }
    }

    private sealed class FailsOnChannel(int channel) : ISpeechSegmenter
    {
        public async IAsyncEnumerable<Utterance> SegmentAsync(IAsyncEnumerable<PcmChunk> pcm, VadPass pass, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var seen = 0;
            await foreach (var chunk in pcm.WithCancellation(cancellationToken))
            {
                if (chunk.Channel == channel && ++seen == 3)
                {
                    throw new InvalidOperationException($"VAD failed on channel {channel}");
                }
            }
            yield break;
        }
    }
}

using EmotionBatch.Core;

namespace EmotionBatch.Audio.Tests;

public sealed class ChannelSegmenterTests
{
    private const int Frame = EnergyEnvelope.FrameSamples;

    [Fact]
    public void Echo_frames_are_silenced_and_double_talk_is_kept()
    {
        // Four 10 ms frames: A alone; A with its echo on B (-25 dB); both talking (B 6 dB down); silence on both.
        var a = Frames(0.5f, 0.5f, 0.5f, 0f);
        var b = Frames(0f, 0.5f * 0.056f, 0.25f, 0f);

        var gated = ChannelSegmenter.SuppressEcho([new PcmChunk(0, a) { Channel = 0 }, new PcmChunk(0, b) { Channel = 1 }], decibels: 15);

        Assert.Same(a, ArrayOf(gated[0]));
        var gatedB = gated[1].Samples.ToArray();
        Assert.All(gatedB.AsSpan(Frame, Frame).ToArray(), s => Assert.Equal(0f, s));
        Assert.Equal(b.AsSpan(2 * Frame, Frame).ToArray(), gatedB.AsSpan(2 * Frame, Frame).ToArray());
        // The input chunk is not changed: the decoder's arrays may be held elsewhere.
        Assert.Equal(0.5f * 0.056f, b[Frame]);
        Assert.Equal(1, gated[1].Channel);

        // A mixed stream passes as it is.
        var mono = ChannelSegmenter.SuppressEcho([new PcmChunk(0, a)], decibels: 15);
        Assert.Same(a, ArrayOf(mono[0]));
    }

    private static float[] Frames(params float[] levels) => levels.SelectMany(level => Enumerable.Repeat(level, Frame)).ToArray();

    private static float[] ArrayOf(PcmChunk chunk) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(chunk.Samples, out var segment) ? segment.Array! : [];
}

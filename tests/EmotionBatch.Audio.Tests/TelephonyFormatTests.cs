using EmotionBatch.Core;
using EmotionBatch.Testing;

namespace EmotionBatch.Audio.Tests;

/// <summary>
/// What call-centre archives hold: narrow-band speech codecs in WAV, low-bitrate Opus and MP3, and stereo telephone
/// recordings with one party per channel. Each file is encoded here by ffmpeg from a known signal and must decode to
/// the encoded length, with the signal intact.
/// </summary>
public sealed class TelephonyFormatTests
{
    private const int Rate = IAudioDecoder.SampleRate;
    private const double Seconds = 3.0;

    [Theory]
    [InlineData("mulaw.wav", "wav", 8_000, 0.15, new[] { "-c:a", "pcm_mulaw" })]
    [InlineData("alaw.wav", "wav", 8_000, 0.15, new[] { "-c:a", "pcm_alaw" })]
    [InlineData("gsm.wav", "wav", 8_000, 0.15, new[] { "-c:a", "libgsm_ms" })]
    [InlineData("g722.wav", "wav", 16_000, 0.15, new[] { "-c:a", "g722" })]
    [InlineData("g726.wav", "wav", 8_000, 0.15, new[] { "-c:a", "g726", "-b:a", "32k" })]
    [InlineData("opus-8k.ogg", "ogg", 48_000, 0.15, new[] { "-c:a", "libopus", "-b:a", "8k" })]
    [InlineData("opus-16k.opus", "ogg", 48_000, 0.15, new[] { "-c:a", "libopus", "-b:a", "16k" })]
    // An 8 kHz MP3 has no length in its header: ffmpeg estimates it from the bitrate, so only the decoded length is exact.
    [InlineData("narrow.mp3", "mp3", 8_000, 0.3, new[] { "-c:a", "libmp3lame", "-b:a", "16k" })]
    public async Task Telephone_codecs_decode_to_the_encoded_length_with_the_tone_intact(string name, string format, int sampleRate, double headerTolerance, string[] codec)
    {
        using var folder = RepoPaths.NewTempFolder("telephony");
        var source = await TestAudio.ToneAsync(folder.File("source.wav"), Seconds, frequencyHz: 440, sampleRate: 16_000, channels: 1, amplitude: 0.5);
        var path = folder.File(name);
        // Opus runs at 48 kHz whatever the input; the others are resampled to their telephone rate.
        await TestAudio.RunFfmpegAsync(["-i", source, "-ar", sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture), .. codec, path]);

        var info = await Signal.Decoder().ProbeAsync(path, CancellationToken.None);
        var (samples, _) = await Signal.DecodeAllAsync(path);

        Assert.Equal(format, info.Format);
        Assert.Equal(1, info.Channels);
        Assert.Equal(sampleRate, info.SampleRate);
        // Codec frames pad the end by at most one frame (MP3: 1,152 samples at 8 kHz = 0.144 s).
        Assert.InRange(info.DurationSeconds, Seconds - 0.01, Seconds + headerTolerance);
        Assert.InRange(samples.Length / (double)Rate, Seconds - 0.01, Seconds + 0.15);
        var middle = samples.AsSpan(Rate / 2, Rate);
        Assert.InRange(Signal.ZeroCrossingHz(middle, Rate), 430, 450);
        // Lossy speech codecs keep a tone's level within a few dB (0.5 amplitude: RMS 0.354).
        Assert.InRange(Signal.Rms(middle), 0.2, 0.45);
    }

    [Fact]
    public async Task An_AMR_file_with_its_header_decodes_and_headerless_AMR_is_refused()
    {
        // ffmpeg here decodes AMR but cannot encode it: fifty 12.2 kbit/s AMR-NB frames (20 ms each) written by hand.
        using var folder = RepoPaths.NewTempFolder("telephony-amr");
        var frames = Enumerable.Range(0, 50).SelectMany(_ => new byte[] { 0x3C }.Concat(new byte[31])).ToArray();
        var withHeader = folder.File("call.amr");
        await File.WriteAllBytesAsync(withHeader, [.. "#!AMR\n"u8, .. frames]);
        var headerless = folder.File("raw.amr");
        await File.WriteAllBytesAsync(headerless, frames);

        var info = await Signal.Decoder().ProbeAsync(withHeader, CancellationToken.None);
        var (samples, _) = await Signal.DecodeAllAsync(withHeader);
        Assert.Equal("amr", info.Format);
        Assert.Equal(8_000, info.SampleRate);
        Assert.InRange(samples.Length / (double)Rate, 0.99, 1.01);

        var refused = await Assert.ThrowsAsync<RecordingFailedException>(() => Signal.DecodeAllAsync(headerless));
        Assert.False(refused.Retryable);
        Assert.Equal("probe", refused.Stage);
    }

    [Fact]
    public async Task A_two_channel_mu_law_call_decodes_as_two_streams_with_their_own_signals()
    {
        using var folder = RepoPaths.NewTempFolder("telephony-stereo");
        var path = folder.File("call.wav");
        // Left: 440 Hz for the first half; right: 1000 Hz for the second half.
        await TestAudio.RunFfmpegAsync([
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=1.5,apad=pad_dur=1.5",
            "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=8000:duration=1.5,adelay=1500",
            "-filter_complex", "[0:a][1:a]join=inputs=2:channel_layout=stereo[out]", "-map", "[out]",
            "-t", "3", "-c:a", "pcm_mulaw", path]);

        var (_, chunks) = await Signal.DecodeAllAsync(path);

        var left = Concat(chunks.Where(c => c.Channel == 0));
        var right = Concat(chunks.Where(c => c.Channel == 1));
        Assert.Equal(chunks.Count, chunks.Count(c => c.Channel is 0 or 1));
        Assert.Equal(left.Length, right.Length);
        Assert.InRange(left.Length / (double)Rate, 2.99, 3.01);
        Assert.InRange(Signal.ZeroCrossingHz(left.AsSpan(Rate / 4, Rate), Rate), 430, 450);
        Assert.True(Signal.Rms(left.AsSpan(2 * Rate, Rate / 2)) < 1e-3);
        Assert.InRange(Signal.ZeroCrossingHz(right.AsSpan(2 * Rate, Rate / 2), Rate), 980, 1020);
        Assert.True(Signal.Rms(right.AsSpan(Rate / 4, Rate)) < 1e-3);
        // The chunks of one stretch come together, channel 0 first, with the same start.
        for (var i = 0; i < chunks.Count; i += 2)
        {
            Assert.Equal((0, 1), (chunks[i].Channel!.Value, chunks[i + 1].Channel!.Value));
            Assert.Equal(chunks[i].StartSample, chunks[i + 1].StartSample);
        }

        // Mix asks for one stream: the channels' mean.
        var (mixed, mixedChunks) = await Signal.DecodeAllAsync(path, new DecoderOptions { Channels = ChannelMode.Mix });
        Assert.All(mixedChunks, c => Assert.Null(c.Channel));
        Assert.Equal(left.Length, mixed.Length);
    }

    [Fact]
    public async Task Auto_mixes_more_than_two_channels_and_Split_refuses_more_than_it_can_split()
    {
        using var folder = RepoPaths.NewTempFolder("telephony-many");
        var surround = await TestAudio.ToneAsync(folder.File("surround.flac"), 1.0, frequencyHz: 440, sampleRate: 16_000, channels: 6, amplitude: 0.5);
        var (_, chunks) = await Signal.DecodeAllAsync(surround);
        Assert.All(chunks, c => Assert.Null(c.Channel));

        var (_, split) = await Signal.DecodeAllAsync(surround, new DecoderOptions { Channels = ChannelMode.Split });
        Assert.Equal(6, split.Select(c => c.Channel).Distinct().Count());

        var ten = folder.File("ten.wav");
        await TestAudio.RunFfmpegAsync(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=1", "-filter_complex",
            "[0:a]asplit=10[a0][a1][a2][a3][a4][a5][a6][a7][a8][a9];[a0][a1][a2][a3][a4][a5][a6][a7][a8][a9]amerge=inputs=10[out]", "-map", "[out]", ten]);
        var refused = await Assert.ThrowsAsync<RecordingFailedException>(
            () => Signal.DecodeAllAsync(ten, new DecoderOptions { Channels = ChannelMode.Split }));
        Assert.Contains("at most 8", refused.Reason);
        Assert.False(refused.Retryable);
    }

    [Fact]
    public void Dual_mono_check_tells_a_copied_channel_from_two_parties_and_from_line_echo()
    {
        var speech = Enumerable.Range(0, Rate * 11).Select(i => (float)(0.3 * Math.Sin(i * 0.05) * Math.Sin(i * 0.0007))).ToArray();
        var other = Enumerable.Range(0, Rate * 11).Select(i => (float)(0.3 * Math.Sin(i * 0.031 + 1) * Math.Cos(i * 0.0003))).ToArray();

        Assert.True(Decide(speech, speech.Select(s => s * 0.8f).ToArray()));
        Assert.False(Decide(speech, other));
        // While only one party speaks, the other line carries its echo: correlated but 25 dB down.
        Assert.False(Decide(speech, speech.Select(s => s * 0.056f).ToArray()));
        // Silence throughout cannot be told apart: mixed.
        Assert.True(Decide(new float[Rate * 11], new float[Rate * 11]));

        static bool Decide(float[] left, float[] right)
        {
            var check = new DualMonoCheck();
            check.Add(left, right);
            return check.Decide(endOfStream: true)!.Value;
        }
    }

    private static float[] Concat(IEnumerable<PcmChunk> chunks) => chunks.SelectMany(c => c.Samples.ToArray()).ToArray();
}

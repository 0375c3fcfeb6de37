using EmotionBatch.Core;
using EmotionBatch.Testing;

namespace EmotionBatch.Audio.Tests;

public sealed class FfmpegAudioDecoderTests
{
    private const int Rate = IAudioDecoder.SampleRate;

    [Theory]
    [InlineData("tone.wav", 44_100, 2, "wav", 0.02)]
    [InlineData("tone.mp3", 44_100, 2, "mp3", 0.08)]
    [InlineData("tone.flac", 48_000, 1, "flac", 0.02)]
    [InlineData("tone.ogg", 48_000, 2, "ogg", 0.05)]
    [InlineData("tone.m4a", 44_100, 2, "mov,mp4,m4a,3gp,3g2,mj2", 0.08)]
    [InlineData("tone.mka", 22_050, 1, "matroska,webm", 0.02)]
    [InlineData("surround.flac", 48_000, 6, "flac", 0.02)]
    public async Task Formats_decode_to_16kHz_mono_with_the_tone_intact(string name, int sampleRate, int channels, string format, double durationTolerance)
    {
        using var folder = RepoPaths.NewTempFolder("decode-formats");
        const double seconds = 2.0;
        var path = await TestAudio.ToneAsync(folder.File(name), seconds, frequencyHz: 440, sampleRate: sampleRate, channels: channels, amplitude: 0.5);
        var decoder = Signal.Decoder();

        var info = await decoder.ProbeAsync(path, CancellationToken.None);
        var (samples, chunks) = await Signal.DecodeAllAsync(path);

        Assert.Equal(format, info.Format);
        Assert.Equal(channels, info.Channels);
        Assert.Equal(sampleRate, info.SampleRate);
        Assert.InRange(info.DurationSeconds, seconds - durationTolerance, seconds + durationTolerance);
        Assert.InRange(samples.Length / (double)Rate, seconds - durationTolerance, seconds + durationTolerance);
        Assert.All(chunks, c => Assert.InRange(c.Samples.Length, 1, Rate));
        // Away from encoder priming and fade at the edges, the 440 Hz tone must come through at its level.
        var middle = samples.AsSpan(Rate / 4, Rate);
        Assert.InRange(Signal.ZeroCrossingHz(middle, Rate), 435, 445);
        // 0.5 amplitude sine has RMS 0.354; a 5.1 downmix of a centre-only signal keeps it at about 0.707 of that.
        Assert.InRange(Signal.Rms(middle), channels == 6 ? 0.15 : 0.25, 0.45);
    }

    [Fact]
    public async Task Jfk_decodes_sample_for_sample()
    {
        var decoder = Signal.Decoder();
        var info = await decoder.ProbeAsync(RepoPaths.JfkWav, CancellationToken.None);
        var (samples, chunks) = await Signal.DecodeAllAsync(RepoPaths.JfkWav);
        var reference = Signal.ReadPcm16Wav(RepoPaths.JfkWav);

        Assert.Equal(new AudioInfo(Path.GetFullPath(RepoPaths.JfkWav), 11.0, 16_000, 1, "wav"), info);
        Assert.Equal(reference.Length, samples.Length);
        Assert.Equal(0, chunks[0].StartSample);
        Assert.Equal(Rate, chunks[1].StartSample);
        for (var i = 0; i < reference.Length; i++)
        {
            Assert.True(Math.Abs(reference[i] - samples[i]) < 1e-6, $"sample {i}: {samples[i]} vs {reference[i]}");
        }
    }

    [Fact]
    public async Task A_name_that_looks_like_an_option_or_url_is_still_just_a_file()
    {
        using var folder = RepoPaths.NewTempFolder("decode-names");
        var path = await TestAudio.ToneAsync(folder.File("tone.wav"), 1, sampleRate: Rate);
        var odd = folder.File("-i http:127.0.0.1:1 #x.wav");
        File.Move(path, odd);

        var (samples, _) = await Signal.DecodeAllAsync(odd);
        Assert.Equal(Rate, samples.Length);
    }

    [Fact]
    public async Task A_video_without_audio_is_not_an_audio_file()
    {
        using var folder = RepoPaths.NewTempFolder("decode-video");
        var path = folder.File("video.mp4");
        await TestAudio.RunFfmpegAsync(["-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=10", "-c:v", "mpeg4", path]);

        var error = await Assert.ThrowsAsync<RecordingFailedException>(() => Signal.Decoder().ProbeAsync(path, CancellationToken.None));
        Assert.Equal("probe", error.Stage);
        Assert.Equal("not an audio file: no audio stream found", error.Reason);
        Assert.False(error.Retryable);
    }

    [Fact]
    public async Task Recordings_over_the_maximum_duration_fail_with_the_limit_in_the_reason()
    {
        using var folder = RepoPaths.NewTempFolder("decode-long");
        var path = await TestAudio.ToneAsync(folder.File("tone.flac"), 3, sampleRate: Rate);
        var options = new DecoderOptions { MaxDurationSeconds = 2 };

        var probe = await Assert.ThrowsAsync<RecordingFailedException>(() => Signal.Decoder(options).ProbeAsync(path, CancellationToken.None));
        var decode = await Assert.ThrowsAsync<RecordingFailedException>(() => Signal.DecodeAllAsync(path, options));

        Assert.StartsWith("recording is too long: ", probe.Reason);
        Assert.Contains("MaxDurationSeconds", probe.Reason);
        Assert.Equal(probe.Reason, decode.Reason);
        Assert.False(probe.Retryable);
    }

    [Fact]
    public async Task Decoding_stops_past_the_limit_when_the_header_understates_the_length()
    {
        using var folder = RepoPaths.NewTempFolder("decode-understated");
        var path = await TestAudio.ToneAsync(folder.File("tone.flac"), 5, sampleRate: Rate);
        // STREAMINFO's total-samples field (the low 36 bits of bytes 18-25) rewritten to one second.
        var bytes = await File.ReadAllBytesAsync(path);
        var packed = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(18));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(18), (packed & ~((1UL << 36) - 1)) | Rate);
        await File.WriteAllBytesAsync(path, bytes);
        var decoder = Signal.Decoder(new DecoderOptions { MaxDurationSeconds = 2 });

        var info = await decoder.ProbeAsync(path, CancellationToken.None);
        var error = await Assert.ThrowsAsync<RecordingFailedException>(() => Signal.DecodeAllAsync(path, new DecoderOptions { MaxDurationSeconds = 2 }));

        Assert.Equal(1.0, info.DurationSeconds, 2);
        Assert.Equal("decode", error.Stage);
        Assert.StartsWith("recording is too long: more than ", error.Reason);
        Assert.Contains("the limit is 2 s", error.Reason);
    }

    [Theory]
    [InlineData(10, false)]
    [InlineData(32, false)]
    [InlineData(16, true)]
    public async Task A_channel_count_without_a_downmix_is_refused_with_a_clear_reason(int channels, bool decodes)
    {
        using var folder = RepoPaths.NewTempFolder("decode-channels");
        var path = folder.File($"ch{channels}.wav");
        var labels = string.Concat(Enumerable.Range(0, channels).Select(i => $"[a{i}]"));
        await TestAudio.RunFfmpegAsync([
            "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-filter_complex",
            $"[0]asplit={channels}{labels};{labels}amerge=inputs={channels}", "-ar", "16000", path]);

        if (decodes)
        {
            // Control: a count with a standard layout (hexadecagonal) decodes as before.
            var (samples, _) = await Signal.DecodeAllAsync(path);
            Assert.InRange(samples.Length, Rate - 200, Rate + 200);
            return;
        }
        var error = await Assert.ThrowsAsync<RecordingFailedException>(() => Signal.DecodeAllAsync(path));
        Assert.Equal("decode", error.Stage);
        Assert.Equal($"{channels} channels without a standard layout cannot be downmixed to mono; convert the recording to mono or stereo first", error.Reason);
        Assert.False(error.Retryable);
    }

    [Fact]
    public async Task Non_finite_float_samples_become_silence_and_the_rest_is_kept()
    {
        using var folder = RepoPaths.NewTempFolder("decode-nonfinite");
        var samples = new float[Rate];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = 0.5f * MathF.Sin(2 * MathF.PI * 440 * i / Rate);
        }
        samples[100] = float.NaN;
        samples[200] = float.PositiveInfinity;
        samples[300] = float.NegativeInfinity;
        var path = folder.File("nonfinite.wav");
        var payload = System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan());
        File.WriteAllBytes(path, Wav.File(Wav.Header(Rate, 1, 32, (uint)payload.Length, formatTag: 3), payload));

        var (decoded, _) = await Signal.DecodeAllAsync(path);

        Assert.Equal(samples.Length, decoded.Length);
        Assert.All(decoded, x => Assert.True(float.IsFinite(x)));
        Assert.Equal(0f, decoded[100]);
        // Control: the finite samples come through unchanged.
        Assert.Equal(samples[101], decoded[101], 1e-6f);
        Assert.Equal(samples[5000], decoded[5000], 1e-6f);
    }

    [Fact]
    public async Task A_tag_with_a_line_break_cannot_forge_the_length()
    {
        using var folder = RepoPaths.NewTempFolder("decode-forged");
        var path = folder.File("forged.flac");
        await TestAudio.RunFfmpegAsync([
            "-f", "lavfi", "-i", "sine=frequency=300:duration=5", "-ar", "16000", "-ac", "1",
            "-metadata", "title=x\n  Duration: 00:00:01.00, start: 0.000000, bitrate: 1 kb/s", path]);

        var error = await Assert.ThrowsAsync<RecordingFailedException>(
            () => Signal.Decoder(new DecoderOptions { MaxDurationSeconds = 2 }).ProbeAsync(path, CancellationToken.None));

        Assert.Equal("probe", error.Stage);
        Assert.StartsWith("recording is too long: 0 h (5 s)", error.Reason);
    }
}

using System.Runtime.CompilerServices;
using EmotionBatch.Audio;
using EmotionBatch.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Audio.Tests;

/// <summary>Small measurements and helpers over decoded PCM.</summary>
internal static class Signal
{
    public static FfmpegAudioDecoder Decoder(DecoderOptions? options = null) =>
        new(Options.Create(options ?? new DecoderOptions()), NullLogger<FfmpegAudioDecoder>.Instance);

    public static async Task<(float[] Samples, List<PcmChunk> Chunks)> DecodeAllAsync(
        string path, DecoderOptions? options = null, CancellationToken cancellationToken = default)
    {
        var chunks = new List<PcmChunk>();
        await foreach (var chunk in Decoder(options).DecodeFileAsync(path, cancellationToken))
        {
            chunks.Add(chunk);
        }
        var samples = new float[chunks.Sum(c => c.Samples.Length)];
        var at = 0;
        foreach (var chunk in chunks)
        {
            chunk.Samples.Span.CopyTo(samples.AsSpan(at));
            at += chunk.Samples.Length;
        }
        return (samples, chunks);
    }

    /// <summary>Open then read, as the pipeline does.</summary>
    public static async IAsyncEnumerable<PcmChunk> DecodeFileAsync(
        this IAudioDecoder decoder, string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var audio = await decoder.OpenAsync(path, cancellationToken);
        await foreach (var chunk in audio.ReadAsync(cancellationToken))
        {
            yield return chunk;
        }
    }

    public static double Rms(ReadOnlySpan<float> samples)
    {
        double sum = 0;
        foreach (var s in samples)
        {
            sum += s * (double)s;
        }
        return samples.Length == 0 ? 0 : Math.Sqrt(sum / samples.Length);
    }

    /// <summary>Frequency of a clean tone from its rising zero crossings.</summary>
    public static double ZeroCrossingHz(ReadOnlySpan<float> samples, int sampleRate)
    {
        var first = -1;
        var last = -1;
        var crossings = 0;
        for (var i = 1; i < samples.Length; i++)
        {
            if (samples[i - 1] < 0 && samples[i] >= 0)
            {
                if (first < 0)
                {
                    first = i;
                }
                else
                {
                    crossings++;
                }
                last = i;
            }
        }
        return crossings == 0 ? 0 : crossings * (double)sampleRate / (last - first);
    }

    public static async IAsyncEnumerable<PcmChunk> Chunks(float[] samples, int size)
    {
        for (var start = 0; start < samples.Length; start += size)
        {
            await Task.Yield();
            yield return new PcmChunk(start, samples.AsMemory(start, Math.Min(size, samples.Length - start)));
        }
    }

    /// <summary>Samples of a 16-bit PCM WAV read directly, without ffmpeg, as the independent reference.</summary>
    public static float[] ReadPcm16Wav(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var at = 12;
        while (at + 8 <= bytes.Length)
        {
            var id = System.Text.Encoding.ASCII.GetString(bytes, at, 4);
            var size = BitConverter.ToInt32(bytes, at + 4);
            if (id == "data")
            {
                var samples = new float[size / 2];
                for (var i = 0; i < samples.Length; i++)
                {
                    samples[i] = BitConverter.ToInt16(bytes, at + 8 + 2 * i) / 32768f;
                }
                return samples;
            }
            at += 8 + size + (size & 1);
        }
        throw new InvalidDataException("no data chunk in " + path);
    }
}

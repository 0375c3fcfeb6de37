using System.Buffers.Binary;
using System.Text;

namespace EmotionBatch.Transcription.Tests;

/// <summary>Minimal RIFF/WAVE reader for PCM16 test audio: walks the chunks instead of assuming a 44-byte header.</summary>
internal static class Pcm16Wav
{
    public sealed record Audio(int SampleRate, int Channels, float[] Samples);

    public static Audio Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 12 || Ascii(bytes, 0) != "RIFF" || Ascii(bytes, 8) != "WAVE")
        {
            throw new InvalidDataException($"{path} is not a RIFF/WAVE file.");
        }
        int? sampleRate = null, channels = null;
        var position = 12;
        while (position + 8 <= bytes.Length)
        {
            var id = Ascii(bytes, position);
            var size = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position + 4));
            var body = bytes.AsSpan(position + 8, Math.Min(size, bytes.Length - position - 8));
            if (id == "fmt ")
            {
                var format = BinaryPrimitives.ReadUInt16LittleEndian(body);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
                sampleRate = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
                var bits = BinaryPrimitives.ReadUInt16LittleEndian(body[14..]);
                if (format != 1 || bits != 16)
                {
                    throw new InvalidDataException($"{path}: format {format}, {bits} bits; only PCM16 is supported.");
                }
            }
            else if (id == "data")
            {
                if (sampleRate is null || channels is null)
                {
                    throw new InvalidDataException($"{path}: data chunk before fmt chunk.");
                }
                var frames = body.Length / 2 / channels.Value;
                var samples = new float[frames];
                for (var f = 0; f < frames; f++)
                {
                    // Mono mix-down: average the channels of each frame.
                    var sum = 0f;
                    for (var c = 0; c < channels.Value; c++)
                    {
                        sum += BinaryPrimitives.ReadInt16LittleEndian(body[((f * channels.Value + c) * 2)..]) / 32768f;
                    }
                    samples[f] = sum / channels.Value;
                }
                return new Audio(sampleRate.Value, channels.Value, samples);
            }
            position += 8 + size + (size & 1); // chunks are word aligned
        }
        throw new InvalidDataException($"{path} has no data chunk.");
    }

    private static string Ascii(byte[] bytes, int offset) => Encoding.ASCII.GetString(bytes, offset, 4);
}

using System.Buffers.Binary;

namespace EmotionBatch.Testing;

/// <summary>Hand-made WAV files, including ones whose header lies (sizes, rates, channel counts) for hostile-input tests.</summary>
public static class Wav
{
    /// <summary>A RIFF/WAVE header of 44 bytes with exactly the given fields, consistent or not.</summary>
    public static byte[] Header(int sampleRate, short channels, short bitsPerSample, uint dataBytes, short formatTag = 1, uint? riffSize = null)
    {
        var header = new byte[44];
        var span = header.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], riffSize ?? unchecked(36 + dataBytes));
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], formatTag);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], channels);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        var blockAlign = (short)(channels * Math.Max(1, bitsPerSample / 8));
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], unchecked(sampleRate * blockAlign));
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], blockAlign);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], bitsPerSample);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[40..], dataBytes);
        return header;
    }

    /// <summary>A header followed by <paramref name="payload"/>, whatever the header claims.</summary>
    public static byte[] File(byte[] header, ReadOnlySpan<byte> payload)
    {
        var file = new byte[header.Length + payload.Length];
        header.CopyTo(file, 0);
        payload.CopyTo(file.AsSpan(header.Length));
        return file;
    }
}

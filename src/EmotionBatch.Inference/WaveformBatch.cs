namespace EmotionBatch.Inference;

/// <summary>
/// How a batch of waveforms becomes the acoustic encoder's input: zero-padded to the longest (at least one analysis
/// window), each cut to the bundle's longest input around its centre. The model and the bench's raw-graph floor both
/// use it, so they run identical tensors.
/// </summary>
public static class WaveformBatch
{
    /// <summary>Waveforms are padded to at least one 25 ms analysis window so encoders always produce a frame.</summary>
    public const int MinimumPaddedSamples = 400;

    /// <summary>Samples per row of the padded batch.</summary>
    public static int PaddedLength(IReadOnlyList<ReadOnlyMemory<float>> waveforms, int maxSamples)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        var padded = MinimumPaddedSamples;
        foreach (var w in waveforms)
        {
            padded = Math.Max(padded, Math.Min(w.Length, maxSamples));
        }
        return padded;
    }

    /// <summary>Copies each waveform into its row of <paramref name="samples"/> (cleared first) and its length into <paramref name="lengths"/>.</summary>
    public static void Fill(IReadOnlyList<ReadOnlyMemory<float>> waveforms, int maxSamples, int padded, Span<float> samples, Span<long> lengths)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        samples.Clear();
        for (var b = 0; b < waveforms.Count; b++)
        {
            var source = waveforms[b].Span;
            if (source.Length > maxSamples)
            {
                // Keep the centre: speech onsets and tails carry less of the expressed emotion than the middle.
                source = source.Slice((source.Length - maxSamples) / 2, maxSamples);
            }
            source.CopyTo(samples.Slice(b * padded, source.Length));
            lengths[b] = source.Length;
        }
    }
}

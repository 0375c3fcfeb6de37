namespace EmotionBatch.Inference;

/// <summary>
/// How utterances are grouped into inference batches: a window of a few batches in arrival order is sorted by length
/// (ties keep arrival order) and cut into batches, so each batch pads little while memory stays bounded by the window.
/// The pipeline batches this way and the bench reports the padding it saves.
/// </summary>
public static class LengthBatching
{
    /// <summary>Batches per window.</summary>
    public const int WindowBatches = 4;

    /// <summary>Cap on the utterances held for sorting: about 12 MB of samples at typical lengths, 60 MB at the longest.</summary>
    public const int MaxWindowUtterances = 64;

    /// <summary>Utterances per window for a batch size: four batches, at most 64 utterances, at least one batch.</summary>
    public static int WindowSize(int batchSize) => Math.Max(batchSize, Math.Min(batchSize * WindowBatches, MaxWindowUtterances));

    /// <summary>Indices of one window's utterances (by length in samples), shortest first, cut into batches.</summary>
    public static IEnumerable<int[]> Batches(IReadOnlyList<int> lengths, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i]).Chunk(batchSize);
    }

    /// <summary>A whole recording's indices, window after window of <paramref name="windowSize"/> utterances, as <see cref="Batches"/> cuts them.</summary>
    public static IEnumerable<int[]> Windowed(IReadOnlyList<int> lengths, int batchSize, int windowSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, 1);
        for (var start = 0; start < lengths.Count; start += windowSize)
        {
            var count = Math.Min(windowSize, lengths.Count - start);
            var window = lengths.Skip(start).Take(count).ToArray();
            foreach (var batch in Batches(window, batchSize))
            {
                yield return batch.Select(i => i + start).ToArray();
            }
        }
    }
}

namespace EmotionBatch.Core;

/// <summary>The utterances of all channels of one recording as one conversation: in time order, numbered once, overlaps marked.</summary>
public static class ConversationTimeline
{
    /// <summary>
    /// Shared time that counts as overlapping speech: more than the VAD padding two neighbouring utterances add between
    /// them (2 x 100 ms by default), so a quick turn change is not overlap.
    /// </summary>
    public const double MinOverlapSeconds = 0.25;

    /// <summary>
    /// Orders the rows of one recording by start time (then channel), gives them indexes 0, 1, ... in that order, and sets
    /// <see cref="UtteranceRow.Overlap"/> where another channel's utterance shares at least <see cref="MinOverlapSeconds"/>.
    /// </summary>
    public static List<UtteranceRow> Arrange(IEnumerable<UtteranceRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var ordered = rows
            .OrderBy(row => row.StartSeconds)
            .ThenBy(row => row.Channel)
            .ThenBy(row => row.UtteranceIndex)
            .ToList();
        var overlapping = new bool[ordered.Count];
        for (var i = 0; i < ordered.Count; i++)
        {
            for (var j = i + 1; j < ordered.Count && ordered[j].StartSeconds < ordered[i].EndSeconds; j++)
            {
                if (ordered[j].Channel != ordered[i].Channel
                    && Math.Min(ordered[i].EndSeconds, ordered[j].EndSeconds) - ordered[j].StartSeconds >= MinOverlapSeconds)
                {
                    overlapping[i] = overlapping[j] = true;
                }
            }
        }
        for (var i = 0; i < ordered.Count; i++)
        {
            ordered[i] = ordered[i] with { UtteranceIndex = i, Overlap = overlapping[i] };
        }
        return ordered;
    }
}

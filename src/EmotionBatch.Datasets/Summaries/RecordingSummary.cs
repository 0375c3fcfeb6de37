using EmotionBatch.Core;

namespace EmotionBatch.Datasets;

/// <summary>
/// One row of the <c>summaries</c> dataset: what a recording sounded like overall. Speech time counts each moment once
/// (overlapping utterance padding is not counted twice); emotion shares, dominant emotion and the valence/arousal means
/// weigh each utterance by its duration, so a long calm passage outweighs a short outburst.
/// </summary>
public sealed record RecordingSummary(
    string RecordingId,
    string RecordingUri,
    string ETag,
    double DurationSeconds,
    double SpeechSeconds,
    double SpeechShare,
    int Utterances,
    string? DominantEmotion,
    float ShareAngry,
    float ShareHappy,
    float ShareSad,
    float ShareNeutral,
    float? MeanValence,
    float? MeanArousal,
    string ModelName,
    string ModelVersion,
    DateTime ProcessedAtUtc)
{
    /// <summary>Summarises the rows of one version of one recording.</summary>
    /// <param name="rows">Utterance rows of a single recording id and etag, in any order; at least one.</param>
    /// <param name="recordingDurationSeconds">The decoded length of the recording; null when unknown (the end of the last utterance is used).</param>
    public static RecordingSummary From(IReadOnlyList<UtteranceRow> rows, double? recordingDurationSeconds)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("A summary needs at least one utterance; use ForNoSpeech for a recording without speech.", nameof(rows));
        }
        var first = rows[0];
        foreach (var row in rows)
        {
            if (!string.Equals(row.RecordingId, first.RecordingId, StringComparison.Ordinal)
                || !string.Equals(row.ETag, first.ETag, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"Rows of several recordings or versions were passed together ({first.RecordingId}@{first.ETag} and {row.RecordingId}@{row.ETag}).",
                    nameof(rows));
            }
        }

        var lastEnd = rows.Max(row => row.EndSeconds);
        var duration = recordingDurationSeconds is { } given && double.IsFinite(given) && given >= 0 ? given : Math.Max(0, lastEnd);
        var speech = UnionLength(rows);

        Span<double> perEmotion = stackalloc double[EmotionLabels.All.Count];
        double totalWeight = 0, valenceSum = 0, arousalSum = 0;
        foreach (var row in rows)
        {
            var weight = Math.Max(0, row.EndSeconds - row.StartSeconds);
            var label = IndexOf(row.Emotion);
            if (label >= 0)
            {
                perEmotion[label] += weight;
            }
            totalWeight += weight;
            valenceSum += weight * row.Valence;
            arousalSum += weight * row.Arousal;
        }
        if (totalWeight <= 0)
        {
            // Zero-length utterances only: every utterance counts the same.
            perEmotion.Clear();
            foreach (var row in rows)
            {
                if (IndexOf(row.Emotion) is var label and >= 0)
                {
                    perEmotion[label] += 1;
                }
            }
            totalWeight = rows.Count;
            valenceSum = rows.Sum(row => (double)row.Valence);
            arousalSum = rows.Sum(row => (double)row.Arousal);
        }

        // Ties go to the earlier label of EmotionLabels.All, so the result never depends on row order.
        var dominant = 0;
        for (var i = 1; i < perEmotion.Length; i++)
        {
            if (perEmotion[i] > perEmotion[dominant])
            {
                dominant = i;
            }
        }

        var newest = rows.MaxBy(row => row.ProcessedAtUtc)!;
        return new RecordingSummary(
            RecordingId: first.RecordingId,
            RecordingUri: first.RecordingUri,
            ETag: first.ETag,
            DurationSeconds: duration,
            SpeechSeconds: speech,
            SpeechShare: duration > 0 ? Math.Min(1, speech / duration) : 0,
            Utterances: rows.Count,
            DominantEmotion: perEmotion[dominant] > 0 ? EmotionLabels.All[dominant] : null,
            ShareAngry: (float)(perEmotion[0] / totalWeight),
            ShareHappy: (float)(perEmotion[1] / totalWeight),
            ShareSad: (float)(perEmotion[2] / totalWeight),
            ShareNeutral: (float)(perEmotion[3] / totalWeight),
            MeanValence: (float)(valenceSum / totalWeight),
            MeanArousal: (float)(arousalSum / totalWeight),
            ModelName: newest.ModelName,
            ModelVersion: newest.ModelVersion,
            ProcessedAtUtc: newest.ProcessedAtUtc);
    }

    /// <summary>The summary of a recording in which no speech was found: zero shares and no dominant emotion or means.</summary>
    public static RecordingSummary ForNoSpeech(
        string recordingId, string recordingUri, string etag, double durationSeconds, string modelName, string modelVersion, DateTime processedAtUtc) =>
        new(recordingId, recordingUri, etag, Math.Max(0, durationSeconds), 0, 0, 0, null, 0, 0, 0, 0, null, null,
            modelName, modelVersion, processedAtUtc);

    /// <summary>The share of one label (one of <see cref="EmotionLabels.All"/>).</summary>
    public float ShareOf(string emotion) => IndexOf(emotion) switch
    {
        0 => ShareAngry,
        1 => ShareHappy,
        2 => ShareSad,
        3 => ShareNeutral,
        _ => throw new ArgumentOutOfRangeException(nameof(emotion), emotion, "Not one of the four emotion labels."),
    };

    private static int IndexOf(string? emotion)
    {
        for (var i = 0; i < EmotionLabels.All.Count; i++)
        {
            if (string.Equals(EmotionLabels.All[i], emotion, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Time covered by the rows, each moment once.</summary>
    internal static double UnionLength(IEnumerable<UtteranceRow> rows)
    {
        double total = 0, currentStart = double.NaN, currentEnd = double.NaN;
        foreach (var row in rows.Where(row => row.EndSeconds > row.StartSeconds).OrderBy(row => row.StartSeconds))
        {
            if (double.IsNaN(currentStart) || row.StartSeconds > currentEnd)
            {
                if (!double.IsNaN(currentStart))
                {
                    total += currentEnd - currentStart;
                }
                currentStart = row.StartSeconds;
                currentEnd = row.EndSeconds;
            }
            else
            {
                currentEnd = Math.Max(currentEnd, row.EndSeconds);
            }
        }
        return double.IsNaN(currentStart) ? total : total + (currentEnd - currentStart);
    }
}

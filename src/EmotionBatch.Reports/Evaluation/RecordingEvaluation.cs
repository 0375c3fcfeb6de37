using EmotionBatch.Core;

namespace EmotionBatch.Reports.Evaluation;

/// <summary>A recording with a known emotion: its id as in the <c>recording_id</c> column, and the group it is reported under (e.g. a corpus; null for none).</summary>
public sealed record LabelledRecording(string RecordingId, string Label, string? Group);

/// <summary>
/// What the output says about one recording as a whole: the duration-weighted mean of its utterances' probabilities,
/// valence and arousal (a long utterance counts more than a short one); the predicted emotion is the most probable.
/// </summary>
public sealed record RecordingVerdict(
    string RecordingId, string Predicted, IReadOnlyList<double> Probabilities, double Valence, double Arousal, int Utterances, double SpeechSeconds)
{
    public static RecordingVerdict From(IReadOnlyList<UtteranceRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("A verdict needs at least one utterance.", nameof(rows));
        }
        var weights = rows.Select(row => Math.Max(0.0, row.EndSeconds - row.StartSeconds)).ToArray();
        var speechSeconds = weights.Sum();
        var total = speechSeconds;
        if (total <= 0)
        {
            // Zero-length rows only: every utterance counts the same.
            Array.Fill(weights, 1.0);
            total = weights.Length;
        }
        var probabilities = new double[EmotionLabels.All.Count];
        double valence = 0, arousal = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var w = weights[i] / total;
            probabilities[0] += w * rows[i].ProbabilityAngry;
            probabilities[1] += w * rows[i].ProbabilityHappy;
            probabilities[2] += w * rows[i].ProbabilitySad;
            probabilities[3] += w * rows[i].ProbabilityNeutral;
            valence += w * rows[i].Valence;
            arousal += w * rows[i].Arousal;
        }
        var best = 0;
        for (var k = 1; k < probabilities.Length; k++)
        {
            if (probabilities[k] > probabilities[best])
            {
                best = k;
            }
        }
        return new RecordingVerdict(rows[0].RecordingId, EmotionLabels.All[best], probabilities, valence, arousal, rows.Count, speechSeconds);
    }
}

/// <summary>
/// Scores of one group of labelled recordings. A labelled recording in which no speech was found counts as a miss
/// (<see cref="WithoutSpeech"/>), so the scores cannot look better by dropping hard recordings.
/// </summary>
/// <param name="Uar">Unweighted average recall over the labels present in the group.</param>
/// <param name="War">Accuracy (weighted average recall).</param>
/// <param name="Recall">Per label; null where the group has no recording of it.</param>
/// <param name="Confusion">Rows: true label (<see cref="EmotionLabels.All"/> order); columns: predicted label, then "no speech".</param>
/// <param name="ArousalAuc">Mean arousal ranking angry+happy above sad+neutral, over the recordings with speech (the others have no arousal); null without both sides.</param>
/// <param name="ValenceAuc">Mean valence ranking happy above angry+sad, over the recordings with speech; null without both sides.</param>
public sealed record GroupScore(
    string Group, int Recordings, int WithoutSpeech, double Uar, double War, IReadOnlyList<double?> Recall,
    IReadOnlyList<IReadOnlyList<int>> Confusion, double? ArousalAuc, double? ValenceAuc);

/// <summary>The labelled recordings the output holds, with their verdicts, and those it does not hold.</summary>
public sealed record LabelledVerdicts(
    IReadOnlyList<(LabelledRecording Label, RecordingVerdict? Verdict)> Scored, IReadOnlyList<LabelledRecording> NotInOutput);

/// <summary>Scores the output of a processing run against known emotions per recording, overall and per group.</summary>
public static class RecordingEvaluation
{
    public const string AllGroups = "all";

    /// <summary>
    /// Each labelled recording the output knows, with its verdict (null where the worker found no speech in it), and
    /// the labelled recordings the output does not hold at all (not processed yet, failed, or an id written another
    /// way), which are left out of the scores rather than counted as misses.
    /// </summary>
    /// <param name="rows">The latest version of each recording's utterances.</param>
    /// <param name="labels">One entry per recording id.</param>
    /// <param name="withoutSpeech">Ids the output records as processed with no speech found (a final segment-stage row in the errors dataset).</param>
    public static LabelledVerdicts Verdicts(
        IReadOnlyList<UtteranceRow> rows, IReadOnlyList<LabelledRecording> labels, IReadOnlySet<string> withoutSpeech)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(withoutSpeech);
        var verdicts = rows.GroupBy(row => row.RecordingId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => RecordingVerdict.From(g.ToList()), StringComparer.Ordinal);
        var scored = new List<(LabelledRecording, RecordingVerdict?)>();
        var missing = new List<LabelledRecording>();
        foreach (var label in labels)
        {
            if (verdicts.TryGetValue(label.RecordingId, out var verdict))
            {
                scored.Add((label, verdict));
            }
            else if (withoutSpeech.Contains(label.RecordingId))
            {
                scored.Add((label, null));
            }
            else
            {
                missing.Add(label);
            }
        }
        return new LabelledVerdicts(scored, missing);
    }

    /// <param name="rows">The latest version of each recording's utterances.</param>
    /// <param name="labels">One entry per recording id.</param>
    /// <param name="withoutSpeech">Ids processed with no speech found; they count as misses.</param>
    public static IReadOnlyList<GroupScore> Score(IReadOnlyList<UtteranceRow> rows, IReadOnlyList<LabelledRecording> labels,
        IReadOnlySet<string> withoutSpeech) =>
        Score(Verdicts(rows, labels, withoutSpeech).Scored);

    public static IReadOnlyList<GroupScore> Score(IReadOnlyList<(LabelledRecording Label, RecordingVerdict? Verdict)> verdicts)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        var scored = verdicts.ToList();
        var groups = new List<GroupScore> { ScoreGroup(AllGroups, scored) };
        foreach (var group in scored.Where(s => s.Label.Group is not null).GroupBy(s => s.Label.Group!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            groups.Add(ScoreGroup(group.Key, group.ToList()));
        }
        return groups;
    }

    private static GroupScore ScoreGroup(string name, List<(LabelledRecording Label, RecordingVerdict? Verdict)> items)
    {
        var labels = EmotionLabels.All;
        var confusion = labels.Select(_ => new int[labels.Count + 1]).ToArray();
        foreach (var (label, verdict) in items)
        {
            var column = verdict is null ? labels.Count : IndexOf(verdict.Predicted);
            confusion[IndexOf(label.Label)][column]++;
        }
        var recall = new double?[labels.Count];
        for (var k = 0; k < labels.Count; k++)
        {
            var n = confusion[k].Sum();
            recall[k] = n == 0 ? null : (double)confusion[k][k] / n;
        }
        var present = recall.Where(r => r is not null).Select(r => r!.Value).ToList();
        var correct = Enumerable.Range(0, labels.Count).Sum(k => confusion[k][k]);
        var withSpeech = items.Where(i => i.Verdict is not null).ToList();
        double? arousalAuc = Auc(
            withSpeech.Where(i => i.Label.Label is EmotionLabels.Angry or EmotionLabels.Happy).Select(i => i.Verdict!.Arousal),
            withSpeech.Where(i => i.Label.Label is EmotionLabels.Sad or EmotionLabels.Neutral).Select(i => i.Verdict!.Arousal));
        double? valenceAuc = Auc(
            withSpeech.Where(i => i.Label.Label is EmotionLabels.Happy).Select(i => i.Verdict!.Valence),
            withSpeech.Where(i => i.Label.Label is EmotionLabels.Angry or EmotionLabels.Sad).Select(i => i.Verdict!.Valence));
        return new GroupScore(
            name, items.Count, items.Count - withSpeech.Count, present.Count == 0 ? 0 : present.Average(),
            items.Count == 0 ? 0 : (double)correct / items.Count, recall, confusion, arousalAuc, valenceAuc);
    }

    /// <summary>Probability that a random positive scores above a random negative (ties count half); null without both.</summary>
    internal static double? Auc(IEnumerable<double> positives, IEnumerable<double> negatives)
    {
        var pos = positives.ToArray();
        var neg = negatives.Order().ToArray();
        if (pos.Length == 0 || neg.Length == 0)
        {
            return null;
        }
        double wins = 0;
        foreach (var p in pos)
        {
            var below = LowerBound(neg, p);
            var notAbove = UpperBound(neg, p);
            wins += below + 0.5 * (notAbove - below);
        }
        return wins / ((double)pos.Length * neg.Length);
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (sorted[mid] < value) { lo = mid + 1; } else { hi = mid; }
        }
        return lo;
    }

    private static int UpperBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (sorted[mid] <= value) { lo = mid + 1; } else { hi = mid; }
        }
        return lo;
    }

    private static int IndexOf(string label)
    {
        for (var k = 0; k < EmotionLabels.All.Count; k++)
        {
            if (string.Equals(EmotionLabels.All[k], label, StringComparison.Ordinal))
            {
                return k;
            }
        }
        throw new ArgumentException($"'{label}' is not one of {string.Join(", ", EmotionLabels.All)}.", nameof(label));
    }
}

using EmotionBatch.Core;

namespace EmotionBatch.Datasets;

/// <summary>
/// One row of the <c>channel_summaries</c> dataset: one channel (one party, e.g. the customer) of one recording version.
/// A recording mixed to one stream has one row, channel 0 without a role. Shares and means weigh utterances by duration,
/// as in <see cref="RecordingSummary"/>.
/// </summary>
/// <param name="TalkShare">This channel's speech time over the speech time of all channels of the recording.</param>
/// <param name="OverlapShare">Share of this channel's speech time during which another channel's utterances also run.</param>
/// <param name="ValenceFirstThird">Mean valence of this channel's utterances centred in the first third of the recording; null when it has none there.</param>
/// <param name="ValenceLastThird">The same for the last third: with <paramref name="ValenceFirstThird"/>, the trajectory of the call.</param>
/// <param name="LongestNegativeRun">The most consecutive utterances of this channel classified angry or sad.</param>
/// <param name="LongestNegativeRunSeconds">From the start of that run's first utterance to the end of its last.</param>
public sealed record ChannelSummary(
    string RecordingId,
    string RecordingUri,
    string ETag,
    int Channel,
    string? SpeakerRole,
    double DurationSeconds,
    double SpeechSeconds,
    double TalkShare,
    double OverlapShare,
    int Utterances,
    string? DominantEmotion,
    float ShareAngry,
    float ShareHappy,
    float ShareSad,
    float ShareNeutral,
    float? MeanValence,
    float? MeanArousal,
    float? ValenceFirstThird,
    float? ValenceLastThird,
    int LongestNegativeRun,
    double LongestNegativeRunSeconds,
    string ModelName,
    string ModelVersion,
    DateTime ProcessedAtUtc)
{
    /// <summary>One summary per channel that has utterances, in channel order.</summary>
    /// <param name="rows">Utterance rows of a single recording version; at least one.</param>
    /// <param name="recordingDurationSeconds">The decoded length of the recording; null when unknown (the end of the last utterance is used).</param>
    public static IReadOnlyList<ChannelSummary> From(IReadOnlyList<UtteranceRow> rows, double? recordingDurationSeconds)
    {
        // Validates the rows (one version, at least one row) and settles the duration the same way for every channel.
        var recording = RecordingSummary.From(rows, recordingDurationSeconds);
        var byChannel = rows.GroupBy(row => row.Channel).OrderBy(group => group.Key)
            .Select(group => group.OrderBy(row => row.StartSeconds).ThenBy(row => row.UtteranceIndex).ToList())
            .ToList();
        var speechPerChannel = byChannel.Select(channel => RecordingSummary.UnionLength(channel)).ToList();
        var allSpeech = speechPerChannel.Sum();

        var result = new List<ChannelSummary>(byChannel.Count);
        for (var c = 0; c < byChannel.Count; c++)
        {
            var channel = byChannel[c];
            var overall = RecordingSummary.From(channel, recording.DurationSeconds);
            var third = recording.DurationSeconds / 3;
            var (run, runSeconds) = LongestNegativeRunOf(channel);
            var overlapSeconds = SharedSeconds(channel, rows.Where(row => row.Channel != channel[0].Channel).OrderBy(row => row.StartSeconds).ToList());
            result.Add(new ChannelSummary(
                recording.RecordingId,
                recording.RecordingUri,
                recording.ETag,
                channel[0].Channel,
                channel.Select(row => row.SpeakerRole).FirstOrDefault(role => role is not null),
                recording.DurationSeconds,
                speechPerChannel[c],
                allSpeech > 0 ? speechPerChannel[c] / allSpeech : 0,
                speechPerChannel[c] > 0 ? Math.Min(1, overlapSeconds / speechPerChannel[c]) : 0,
                channel.Count,
                overall.DominantEmotion,
                overall.ShareAngry,
                overall.ShareHappy,
                overall.ShareSad,
                overall.ShareNeutral,
                overall.MeanValence,
                overall.MeanArousal,
                MeanValenceOf(channel.Where(row => Middle(row) < third)),
                MeanValenceOf(channel.Where(row => Middle(row) >= 2 * third)),
                run,
                runSeconds,
                overall.ModelName,
                overall.ModelVersion,
                overall.ProcessedAtUtc));
        }
        return result;
    }

    /// <summary>Angry and sad are the negative categories (low valence in the circumplex).</summary>
    public static bool IsNegative(string? emotion) =>
        string.Equals(emotion, EmotionLabels.Angry, StringComparison.OrdinalIgnoreCase)
        || string.Equals(emotion, EmotionLabels.Sad, StringComparison.OrdinalIgnoreCase);

    /// <summary>Time during which an utterance of <paramref name="channel"/> and one of <paramref name="others"/> (sorted by start) both run, each moment once.</summary>
    private static double SharedSeconds(List<UtteranceRow> channel, List<UtteranceRow> others)
    {
        var shared = new List<UtteranceRow>();
        foreach (var row in channel)
        {
            foreach (var other in others)
            {
                if (other.StartSeconds >= row.EndSeconds)
                {
                    break;
                }
                var start = Math.Max(row.StartSeconds, other.StartSeconds);
                var end = Math.Min(row.EndSeconds, other.EndSeconds);
                if (end > start)
                {
                    shared.Add(row with { StartSeconds = start, EndSeconds = end });
                }
            }
        }
        return RecordingSummary.UnionLength(shared);
    }

    private static double Middle(UtteranceRow row) => (row.StartSeconds + row.EndSeconds) / 2;

    private static float? MeanValenceOf(IEnumerable<UtteranceRow> rows)
    {
        double weighted = 0, weights = 0, plain = 0;
        var count = 0;
        foreach (var row in rows)
        {
            var weight = Math.Max(0, row.EndSeconds - row.StartSeconds);
            weighted += weight * row.Valence;
            weights += weight;
            plain += row.Valence;
            count++;
        }
        return count == 0 ? null : (float)(weights > 0 ? weighted / weights : plain / count);
    }

    private static (int Utterances, double Seconds) LongestNegativeRunOf(List<UtteranceRow> channel)
    {
        int best = 0, current = 0;
        double bestSeconds = 0, runStart = 0;
        foreach (var row in channel)
        {
            if (!IsNegative(row.Emotion))
            {
                current = 0;
                continue;
            }
            if (current++ == 0)
            {
                runStart = row.StartSeconds;
            }
            var seconds = row.EndSeconds - runStart;
            if (current > best || (current == best && seconds > bestSeconds))
            {
                best = current;
                bestSeconds = seconds;
            }
        }
        return (best, bestSeconds);
    }
}

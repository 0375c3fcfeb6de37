namespace EmotionBatch.Core;

public sealed record Transcript(string Text, string? Language);

public interface ITranscriber
{
    /// <summary>False when no speech-recognition model is configured: transcripts stay null and the text modality is masked.</summary>
    bool IsEnabled { get; }

    /// <summary>
    /// Seconds of speech gathered into one recognition call (utterances of one channel, in time order); 0 transcribes
    /// each utterance alone. Callers hand <see cref="TranscribeAsync"/> groups of about this length.
    /// </summary>
    double PackSeconds { get; }

    /// <summary>The transcript of each utterance (null where nothing was recognised), in the order given.</summary>
    /// <param name="utterances">Utterances of one channel, in time order.</param>
    Task<IReadOnlyList<Transcript?>> TranscribeAsync(IReadOnlyList<Utterance> utterances, CancellationToken cancellationToken);
}

public static class TranscriberExtensions
{
    /// <summary>One utterance alone.</summary>
    public static async Task<Transcript?> TranscribeAsync(this ITranscriber transcriber, Utterance utterance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transcriber);
        return (await transcriber.TranscribeAsync([utterance], cancellationToken).ConfigureAwait(false))[0];
    }
}

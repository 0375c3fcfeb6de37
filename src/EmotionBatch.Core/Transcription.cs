namespace EmotionBatch.Core;

public sealed record Transcript(string Text, string? Language);

public interface ITranscriber
{
    /// <summary>False when no speech-recognition model is configured: transcripts stay null and the text modality is masked.</summary>
    bool IsEnabled { get; }

    Task<Transcript?> TranscribeAsync(Utterance utterance, CancellationToken cancellationToken);
}

namespace EmotionBatch.Datasets;

/// <summary>Column names of the utterances dataset, as analysts see them in SQL.</summary>
public static class UtteranceColumns
{
    public const string RecordingId = "recording_id";
    public const string RecordingUri = "recording_uri";
    public const string ETag = "etag";
    public const string UtteranceIndex = "utterance_index";
    public const string StartSeconds = "start_seconds";
    public const string EndSeconds = "end_seconds";
    public const string Transcript = "transcript";
    public const string Language = "language";
    public const string Emotion = "emotion";
    public const string ProbabilityAngry = "p_angry";
    public const string ProbabilityHappy = "p_happy";
    public const string ProbabilitySad = "p_sad";
    public const string ProbabilityNeutral = "p_neutral";
    public const string Valence = "valence";
    public const string Arousal = "arousal";
    public const string TextUsed = "text_used";
    public const string ModelName = "model_name";
    public const string ModelVersion = "model_version";
    public const string ProcessedAt = "processed_at";
    public const string Channel = "channel";
    public const string SpeakerRole = "speaker_role";
    public const string Overlap = "overlap";
    public const string VadThreshold = "vad_threshold";
}

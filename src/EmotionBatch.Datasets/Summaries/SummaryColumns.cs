namespace EmotionBatch.Datasets;

/// <summary>Column names of the summaries dataset (same snake_case style as the utterances dataset).</summary>
public static class SummaryColumns
{
    public const string RecordingId = UtteranceColumns.RecordingId;
    public const string RecordingUri = UtteranceColumns.RecordingUri;
    public const string ETag = UtteranceColumns.ETag;
    public const string DurationSeconds = "duration_seconds";
    public const string SpeechSeconds = "speech_seconds";
    public const string SpeechShare = "speech_share";
    public const string Utterances = "utterances";
    public const string DominantEmotion = "dominant_emotion";
    public const string ShareAngry = "share_angry";
    public const string ShareHappy = "share_happy";
    public const string ShareSad = "share_sad";
    public const string ShareNeutral = "share_neutral";
    public const string MeanValence = "mean_valence";
    public const string MeanArousal = "mean_arousal";
    public const string ModelName = UtteranceColumns.ModelName;
    public const string ModelVersion = UtteranceColumns.ModelVersion;
    public const string ProcessedAt = UtteranceColumns.ProcessedAt;
}

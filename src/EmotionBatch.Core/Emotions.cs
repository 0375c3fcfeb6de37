namespace EmotionBatch.Core;

/// <summary>The four categories, in the order every model bundle must use for its logits.</summary>
public static class EmotionLabels
{
    public const string Angry = "angry";
    public const string Happy = "happy";
    public const string Sad = "sad";
    public const string Neutral = "neutral";

    public static readonly IReadOnlyList<string> All = [Angry, Happy, Sad, Neutral];
}

/// <summary>Input of one utterance to the emotion model. A null or blank transcript masks the text modality.</summary>
public sealed record EmotionInput(ReadOnlyMemory<float> Samples, string? Transcript);

/// <summary>Model output for one utterance. Probabilities follow <see cref="EmotionLabels.All"/>.</summary>
public sealed record EmotionPrediction(
    string Label,
    float ProbabilityAngry,
    float ProbabilityHappy,
    float ProbabilitySad,
    float ProbabilityNeutral,
    float Valence,
    float Arousal);

/// <summary>Name, version and provenance of the loaded model bundle, copied into every row.</summary>
public sealed record ModelBundleInfo(string Name, string Version, bool Trained);

public interface IEmotionModel
{
    ModelBundleInfo Bundle { get; }

    /// <summary>Largest batch the model runs at once (one session call).</summary>
    int PreferredBatchSize { get; }

    /// <summary>
    /// How many utterances a caller should hand <see cref="PredictAsync"/> per call. A model that batches inside (by
    /// length, <c>BatchingEmotionModel</c>) wants several batches' worth; a plain one wants one batch.
    /// </summary>
    int PreferredCallSize => PreferredBatchSize;

    /// <summary>One prediction per input, in the order given.</summary>
    Task<IReadOnlyList<EmotionPrediction>> PredictAsync(IReadOnlyList<EmotionInput> batch, CancellationToken cancellationToken);
}

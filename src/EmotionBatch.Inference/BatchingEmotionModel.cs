using EmotionBatch.Core;

namespace EmotionBatch.Inference;

/// <summary>
/// Takes any number of utterances and runs them through the inner model in <see cref="LengthBatching"/>'s batches:
/// sorted by length so that each batch pads little, results returned in the order given. Callers hand it
/// <see cref="PreferredCallSize"/> utterances at a time (a window of a few batches), which bounds memory.
/// </summary>
public sealed class BatchingEmotionModel : IEmotionModel
{
    private readonly IEmotionModel _inner;

    public BatchingEmotionModel(IEmotionModel inner)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
    }

    public ModelBundleInfo Bundle => _inner.Bundle;

    public int PreferredBatchSize => Math.Max(1, _inner.PreferredBatchSize);

    public int PreferredCallSize => LengthBatching.WindowSize(PreferredBatchSize);

    public async Task<IReadOnlyList<EmotionPrediction>> PredictAsync(IReadOnlyList<EmotionInput> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var lengths = new int[batch.Count];
        for (var i = 0; i < lengths.Length; i++)
        {
            lengths[i] = batch[i].Samples.Length;
        }
        var predictions = new EmotionPrediction[batch.Count];
        foreach (var indices in LengthBatching.Batches(lengths, PreferredBatchSize))
        {
            var inputs = Array.ConvertAll(indices, i => batch[i]);
            var results = await _inner.PredictAsync(inputs, cancellationToken).ConfigureAwait(false);
            if (results.Count != inputs.Length)
            {
                throw new InvalidOperationException($"The model returned {results.Count} predictions for {inputs.Length} utterances.");
            }
            for (var k = 0; k < indices.Length; k++)
            {
                predictions[indices[k]] = results[k];
            }
        }
        return predictions;
    }
}

using EmotionBatch.Core;

namespace EmotionBatch.Inference.Tests;

[Trait("Category", "Fast")]
public sealed class BatchingEmotionModelTests
{
    /// <summary>Echoes each input's length as its valence, and records the batches it was given.</summary>
    private sealed class RecordingModel(int batchSize) : IEmotionModel
    {
        public List<int[]> Batches { get; } = [];
        public ModelBundleInfo Bundle { get; } = new("fake", "1", Trained: false);
        public int PreferredBatchSize => batchSize;

        public Task<IReadOnlyList<EmotionPrediction>> PredictAsync(IReadOnlyList<EmotionInput> batch, CancellationToken cancellationToken)
        {
            Batches.Add(batch.Select(input => input.Samples.Length).ToArray());
            return Task.FromResult<IReadOnlyList<EmotionPrediction>>(
                batch.Select(input => new EmotionPrediction(EmotionLabels.Neutral, 0, 0, 0, 1, input.Samples.Length, 0)).ToList());
        }
    }

    private static EmotionInput Input(int samples) => new(new float[samples], null);

    [Fact]
    public async Task Predictions_come_back_in_the_order_given_from_batches_sorted_by_length()
    {
        var inner = new RecordingModel(batchSize: 2);
        var model = new BatchingEmotionModel(inner);
        int[] lengths = [500, 100, 400, 200, 300];

        var predictions = await model.PredictAsync(lengths.Select(Input).ToList(), CancellationToken.None);

        Assert.Equal(lengths.Select(l => (float)l), predictions.Select(p => p.Valence));
        Assert.Equal([[100, 200], [300, 400], [500]], inner.Batches);
    }

    [Fact]
    public void Callers_are_asked_for_a_window_of_batches_and_the_batch_size_is_the_inner_models()
    {
        var model = new BatchingEmotionModel(new RecordingModel(batchSize: 8));
        Assert.Equal(8, model.PreferredBatchSize);
        Assert.Equal(LengthBatching.WindowSize(8), model.PreferredCallSize);
        Assert.Equal(8, ((IEmotionModel)new RecordingModel(8)).PreferredCallSize);
    }

    [Fact]
    public async Task An_inner_model_that_loses_predictions_is_an_error_not_a_shifted_result()
    {
        var model = new BatchingEmotionModel(new LosingModel());
        await Assert.ThrowsAsync<InvalidOperationException>(() => model.PredictAsync([Input(10), Input(20)], CancellationToken.None));
    }

    private sealed class LosingModel : IEmotionModel
    {
        public ModelBundleInfo Bundle { get; } = new("fake", "1", Trained: false);
        public int PreferredBatchSize => 4;
        public Task<IReadOnlyList<EmotionPrediction>> PredictAsync(IReadOnlyList<EmotionInput> batch, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<EmotionPrediction>>([new EmotionPrediction(EmotionLabels.Neutral, 0, 0, 0, 1, 0, 0)]);
    }
}

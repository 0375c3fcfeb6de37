using EmotionBatch.Audio;

namespace EmotionBatch.Worker.Tests.Orchestration;

/// <summary>
/// A split recording whose decoder fails while inference is still busy with earlier utterances is recorded with the
/// decoder's stage and reason (it once surfaced as a cancellation and was recorded as a retryable "unexpected").
/// </summary>
[Trait("Category", "Fast")]
public sealed class SplitDecodeFailureTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_split_recordings_decode_failure_while_the_model_is_busy_is_recorded_as_decode(int run)
    {
        Assert.True(run > 0);
        using var metrics = new TestTelemetry();
        var telemetry = metrics.Telemetry;
        using var temp = EmotionBatch.Testing.RepoPaths.NewTempFolder("race");
        const int Half = 8000;
        var audio = new FakeAudio(new AudioInfo("/x.wav", 6, 16000, 2, "wav"),
            [.. Enumerable.Range(0, 12).SelectMany(i => new[] { new PcmChunk(i * Half, Enumerable.Repeat(0.3f, Half).ToArray()) { Channel = 0 }, new PcmChunk(i * Half, Enumerable.Repeat(0.3f, Half).ToArray()) { Channel = 1 } })]);
        audio.Failure = (16, new RecordingFailedException(PipelineStage.Decode, "bad"));
        var model = new BusyModel(audio.Failed);
        var segmenter = new ChannelSegmenter(new ChunkSegmenter(), Options.Create(new DecoderOptions()), Options.Create(new VadOptions()));
        var analyser = new UtteranceAnalyser(segmenter, new FakeTranscriber(false, 0), model, new FakeTimeProvider(), telemetry);
        var store = new RecordingStore();
        var pipeline = new RecordingPipeline(new FetchingSource(), new FakeDecoder(audio), analyser, store,
            Options.Create(new WorkerOptions { WorkFolder = temp.Path }), Options.Create(new VadOptions()), new FakeTimeProvider(), telemetry, NullLogger<RecordingPipeline>.Instance);

        await pipeline.ProcessAsync(TestRecordings.Make("x"), 1, CancellationToken.None).WaitAsync(Signals.Guard);

        var failure = Assert.Single(store.Failures);
        Assert.Equal("decode: bad", $"{failure.Stage}: {failure.Reason}");
    }

    private sealed class BusyModel(Task busy) : IEmotionModel
    {
        public ModelBundleInfo Bundle { get; } = new("m", "1", false);
        public int PreferredBatchSize => 1;
        public async Task<IReadOnlyList<EmotionPrediction>> PredictAsync(IReadOnlyList<EmotionInput> batch, CancellationToken cancellationToken)
        {
            await busy;
            return [.. batch.Select(_ => new EmotionPrediction("neutral", 0, 0, 0, 1, 0, 0))];
        }
    }
}

using EmotionBatch.Audio;

namespace EmotionBatch.Worker.Tests.Orchestration;

/// <summary>
/// The utterance work of one recording over fakes of the VAD, the transcriber and the emotion model, with the real
/// channel segmenter: one row per utterance, transcripts packed per channel and landing on their own rows, one
/// timeline across channels, and each stage's failure named.
/// </summary>
[Trait("Category", "Fast")]
public sealed class UtteranceAnalyserTests : IDisposable
{
    private const int Rate = IAudioDecoder.SampleRate;
    // Every chunk is half a second: the fake VAD makes each sounding chunk one utterance of 0.5 s.
    private const int Half = Rate / 2;
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    // Five utterances at 0, 1, 2, 3 and 4 s, each with its own level (the fake model's valence) and silence between.
    private static readonly float[] MixedLevels = [0.2f, 0, 0.3f, 0, 0.4f, 0, 0.5f, 0, 0.6f, 0];

    private readonly RecordingRef _recording = TestRecordings.Make("call");
    private readonly TestTelemetry _metrics = new();


    public void Dispose()
    {
        _metrics.Dispose();
    }

    [Fact]
    public async Task Without_transcription_every_utterance_gets_one_untranscribed_row_and_the_model_gets_at_most_its_call_size()
    {
        var transcriber = new FakeTranscriber(enabled: false, packSeconds: 0);
        var model = new FakeEmotionModel(preferredCallSize: 2);

        var rows = await Analyser(transcriber, model, roles: ["agent", "customer"]).AnalyseAsync(_recording, Mono(MixedLevels), VadPass.Primary, CancellationToken.None)
            .WaitAsync(Signals.Guard);

        Assert.Equal([0.0, 1.0, 2.0, 3.0, 4.0], rows.Select(r => r.StartSeconds));
        Assert.Equal([0.2f, 0.3f, 0.4f, 0.5f, 0.6f], rows.Select(r => r.Valence));
        Assert.Equal([0, 1, 2, 3, 4], rows.Select(r => r.UtteranceIndex));
        Assert.All(rows, row =>
        {
            Assert.Null(row.Transcript);
            Assert.False(row.TextUsed);
            // A mixed recording has no channel, so no role, whatever roles are configured.
            Assert.Equal((0, null, false), (row.Channel, row.SpeakerRole, row.Overlap));
            Assert.Equal((_recording.Id, "fake-model", Now.UtcDateTime), (row.RecordingId, row.ModelName, row.ProcessedAtUtc));
        });
        Assert.Empty(transcriber.Calls);
        Assert.All(model.Calls, call => Assert.InRange(call.Count, 1, 2));
        Assert.Equal(5, model.Calls.Sum(call => call.Count));
        Assert.All(model.Calls.SelectMany(call => call), input => Assert.Null(input.Transcript));
    }

    [Fact]
    public async Task With_transcription_packs_of_one_channel_in_time_order_are_transcribed_and_each_text_lands_on_its_own_row()
    {
        // 1.5 s holds two utterances of 0.5 s with the gap between them (1.3 s), not three (2.1 s).
        var transcriber = new FakeTranscriber(enabled: true, packSeconds: 1.5);
        var model = new FakeEmotionModel(preferredCallSize: 2);

        var rows = await Analyser(transcriber, model).AnalyseAsync(_recording, Mono(MixedLevels), VadPass.Primary, CancellationToken.None).WaitAsync(Signals.Guard);

        Assert.Equal(
            [[0.0, 1.0], [2.0, 3.0], [4.0]],
            transcriber.Calls.Select(pack => pack.Select(u => u.StartSeconds).ToArray()));
        Assert.All(transcriber.Calls, pack =>
        {
            Assert.Single(pack.Select(u => u.Channel).Distinct());
            Assert.True(pack.Sum(u => u.DurationSeconds) + (pack.Count - 1) * 0.3 <= transcriber.PackSeconds);
        });
        // Each row's text and each row's audio (valence) come from the same utterance.
        Assert.Equal([0.0, 1.0, 2.0, 3.0, 4.0], rows.Select(r => r.StartSeconds));
        Assert.Equal([0.2f, 0.3f, 0.4f, 0.5f, 0.6f], rows.Select(r => r.Valence));
        Assert.Equal(rows.Select(r => FakeTranscriber.TextOf(r.StartSeconds, channel: null)), rows.Select(r => r.Transcript));
        Assert.All(rows, row => Assert.Equal((true, "en"), (row.TextUsed, row.Language)));
        Assert.All(model.Calls, call => Assert.InRange(call.Count, 1, 2));
        var heard = model.Calls.SelectMany(call => call).ToDictionary(input => input.Samples.Span[0], input => input.Transcript);
        Assert.Equal(rows.ToDictionary(r => r.Valence, r => r.Transcript), heard);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_split_recordings_rows_form_one_timeline_numbered_once_with_each_channels_role_and_overlap(bool transcribe)
    {
        // Agent (left) at 0, 2 and 3 s; customer (right) at 1 and 3 s, talking over the agent's last turn.
        float[] left = [0.2f, 0, 0, 0, 0.3f, 0, 0.4f, 0];
        float[] right = [0, 0, 0.5f, 0, 0, 0, 0.6f, 0];
        // With transcription, long packs: each channel is transcribed in one call at the end, agent's first, so rows leave
        // inference out of time order. Without, the channels' utterances arrive in the order their lanes find them.
        var transcriber = new FakeTranscriber(enabled: transcribe, packSeconds: 30);
        var model = new FakeEmotionModel(preferredCallSize: 8);

        var rows = await Analyser(transcriber, model, roles: ["agent", "customer"]).AnalyseAsync(_recording, Stereo(left, right), VadPass.Primary, CancellationToken.None)
            .WaitAsync(Signals.Guard);

        Assert.Equal(
            [(0, 0.0, 0, "agent", false), (1, 1.0, 1, "customer", false), (2, 2.0, 0, "agent", false), (3, 3.0, 0, "agent", true), (4, 3.0, 1, "customer", true)],
            rows.Select(r => (r.UtteranceIndex, r.StartSeconds, r.Channel, r.SpeakerRole, r.Overlap)));
        Assert.Equal([0.2f, 0.5f, 0.3f, 0.4f, 0.6f], rows.Select(r => r.Valence));
        if (transcribe)
        {
            Assert.Equal(rows.Select(r => FakeTranscriber.TextOf(r.StartSeconds, r.Channel)), rows.Select(r => r.Transcript));
            // One call per channel, holding that channel's utterances only, in time order.
            Assert.Equal(
                ["0: 0,2,3", "1: 1,3"],
                transcriber.Calls.Select(pack => $"{Assert.Single(pack.Select(u => u.Channel).Distinct())}: {string.Join(',', pack.Select(u => u.StartSeconds))}")
                    .Order(StringComparer.Ordinal));
        }
        else
        {
            Assert.All(rows, row => Assert.Null(row.Transcript));
        }
    }

    [Fact]
    public async Task A_model_that_throws_fails_the_recording_at_infer_retryably_and_stops_the_decoder()
    {
        var model = new FakeEmotionModel(preferredCallSize: 2) { Failure = new InvalidOperationException("session lost") };
        // A long recording: decoding would go on long after the model failed unless it is stopped.
        var audio = new FakeAudio(Chunk(0, 0.5f)) { Endless = true };

        var failure = await Assert.ThrowsAsync<RecordingFailedException>(() =>
            Analyser(new FakeTranscriber(enabled: false, packSeconds: 0), model).AnalyseAsync(_recording, audio, VadPass.Primary, CancellationToken.None).WaitAsync(Signals.Guard));

        Assert.Equal((PipelineStage.Infer, true), (failure.Stage, failure.Retryable));
        Assert.IsType<InvalidOperationException>(failure.InnerException);
        await audio.ReadCancelled.WaitAsync(Signals.Guard);
    }

    [Fact]
    public async Task A_transcriber_that_throws_fails_the_recording_at_transcribe_retryably()
    {
        var transcriber = new FakeTranscriber(enabled: true, packSeconds: 1.5) { Failure = new InvalidOperationException("whisper crashed") };

        var failure = await Assert.ThrowsAsync<RecordingFailedException>(() =>
            Analyser(transcriber, new FakeEmotionModel(preferredCallSize: 2)).AnalyseAsync(_recording, Mono(MixedLevels), VadPass.Primary, CancellationToken.None)
                .WaitAsync(Signals.Guard));

        Assert.Equal((PipelineStage.Transcribe, true), (failure.Stage, failure.Retryable));
        Assert.Contains("whisper crashed", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_recogniser_or_model_that_loses_a_result_fails_its_stage_instead_of_shifting_rows()
    {
        var transcriber = new FakeTranscriber(enabled: true, packSeconds: 1.5) { LosesOne = true };
        var lostTranscript = await Assert.ThrowsAsync<RecordingFailedException>(() =>
            Analyser(transcriber, new FakeEmotionModel(preferredCallSize: 2)).AnalyseAsync(_recording, Mono(MixedLevels), VadPass.Primary, CancellationToken.None)
                .WaitAsync(Signals.Guard));
        Assert.Equal(PipelineStage.Transcribe, lostTranscript.Stage);
        Assert.Contains("transcripts for", lostTranscript.Reason, StringComparison.Ordinal);

        var model = new FakeEmotionModel(preferredCallSize: 2) { LosesOne = true };
        var lostPrediction = await Assert.ThrowsAsync<RecordingFailedException>(() =>
            Analyser(new FakeTranscriber(enabled: false, packSeconds: 0), model).AnalyseAsync(_recording, Mono(MixedLevels), VadPass.Primary, CancellationToken.None)
                .WaitAsync(Signals.Guard));
        Assert.Equal(PipelineStage.Infer, lostPrediction.Stage);
        Assert.Contains("predictions for", lostPrediction.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 5)]
    public async Task A_decoder_failing_part_way_fails_the_recording_with_its_stage_and_does_not_hang(bool split, int afterChunks)
    {
        // Two utterances are out when decoding fails: mixed, at 0 and 1 s; split, one per channel at 0 s.
        var audio = split ? Stereo(MixedLevels, MixedLevels) : Mono(MixedLevels);
        var model = new FakeEmotionModel(preferredCallSize: 1);
        audio.Failure = (afterChunks, new RecordingFailedException(PipelineStage.Decode, "invalid data at 1.5 s"));
        // The failure comes once those utterances are through (one per model call, so the model has seen both); a failure
        // arriving while they are still in flight is another case.
        audio.FailureHeldUntil = model.SeenAsync(2);

        var failure = await Assert.ThrowsAsync<RecordingFailedException>(() =>
            Analyser(new FakeTranscriber(enabled: false, packSeconds: 0), model).AnalyseAsync(_recording, audio, VadPass.Primary, CancellationToken.None).WaitAsync(Signals.Guard));

        Assert.Equal((PipelineStage.Decode, "invalid data at 1.5 s"), (failure.Stage, failure.Reason));
    }

    private UtteranceAnalyser Analyser(FakeTranscriber transcriber, FakeEmotionModel model, params string[] roles)
    {
        var segmenter = new ChannelSegmenter(
            new ChunkSegmenter(),
            Options.Create(new DecoderOptions { ChannelRoles = [.. roles] }),
            // The model path is only opened by the real VAD; the channel segmenter reads the block sizes.
            Options.Create(new VadOptions()));
        return new UtteranceAnalyser(segmenter, transcriber, model, new FakeTimeProvider(Now), _metrics.Telemetry);
    }

    /// <summary>A mixed recording: one half-second chunk per level, 0 being silence.</summary>
    private static FakeAudio Mono(float[] levels) => new([.. levels.Select((level, i) => Chunk(i * Half, level))]);

    /// <summary>A recording decoded channel by channel: for each half second, the left chunk, then the right one.</summary>
    private static FakeAudio Stereo(float[] left, float[] right) =>
        new(new AudioInfo("/work/call.wav", left.Length * 0.5, Rate, 2, "wav"),
            [.. left.SelectMany((level, i) => new[] { Chunk(i * Half, level) with { Channel = 0 }, Chunk(i * Half, right[i]) with { Channel = 1 } })]);

    private static PcmChunk Chunk(long start, float level) => new(start, Enumerable.Repeat(level, Half).ToArray());
}

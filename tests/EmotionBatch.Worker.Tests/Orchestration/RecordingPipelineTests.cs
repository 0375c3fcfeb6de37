using EmotionBatch.Audio;
using EmotionBatch.Testing;

namespace EmotionBatch.Worker.Tests.Orchestration;

/// <summary>
/// One recording through the pipeline over fakes of the source, the decoder, the analyser and the store: its limits,
/// what it commits, how each failure is recorded, and that what it opened is closed again.
/// </summary>
[Trait("Category", "Fast")]
public sealed class RecordingPipelineTests : IDisposable
{
    private const long MaxFileSizeBytes = 10_000;
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private readonly TempFolder _temp = RepoPaths.NewTempFolder("pipeline");
    private readonly FetchingSource _source = new();
    private readonly FakeDecoder _decoder = new(new FakeAudio());
    private readonly FakeAnalyser _analyser = new();
    private readonly RecordingStore _store = new();
    private readonly TestTelemetry _metrics = new();
    private readonly RecordingPipeline _pipeline;

    public RecordingPipelineTests()
    {
        _pipeline = Pipeline(new VadOptions());
    }

    private RecordingPipeline Pipeline(VadOptions vad)
    {
        var options = new WorkerOptions { MaxFileSizeBytes = MaxFileSizeBytes, WorkFolder = _temp.File("work") };
        return new RecordingPipeline(_source, _decoder, _analyser, _store, Options.Create(options), Options.Create(vad), new FakeTimeProvider(Now),
            _metrics.Telemetry, NullLogger<RecordingPipeline>.Instance);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _temp.Dispose();
    }

    [Theory]
    [InlineData(MaxFileSizeBytes + 1)]
    [InlineData(0)]
    public async Task A_recording_over_the_size_limit_or_empty_fails_at_fetch_for_good_without_being_fetched(long sizeBytes)
    {
        var recording = Recording("call", sizeBytes);

        var outcome = await _pipeline.ProcessAsync(recording, attempt: 1, CancellationToken.None);

        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        var failure = Assert.Single(_store.Failures);
        Assert.Equal((PipelineStage.Fetch, false), (failure.Stage, failure.WillRetry));
        Assert.Empty(_source.Fetches);
        Assert.Empty(_decoder.Opens);
        Assert.Empty(_analyser.Calls);
        Assert.Empty(_store.Commits);
    }

    [Fact]
    public async Task A_fetch_that_throws_is_recorded_as_a_retryable_fetch_failure()
    {
        _source.Failure = new IOException("connection reset by peer");

        var outcome = await _pipeline.ProcessAsync(Recording("call"), attempt: 2, CancellationToken.None);

        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        var failure = Assert.Single(_store.Failures);
        Assert.Equal((PipelineStage.Fetch, true, 2), (failure.Stage, failure.WillRetry, failure.Attempt));
        Assert.Contains("connection reset by peer", failure.Reason, StringComparison.Ordinal);
        Assert.Single(_source.Fetches);
        Assert.Empty(_decoder.Opens);
    }

    [Fact]
    public async Task A_recording_the_decoder_refuses_is_recorded_with_the_decoders_stage_and_reason()
    {
        _decoder.Refusal = new RecordingFailedException(PipelineStage.Probe, "not an audio file") { Retryable = false };
        var recording = Recording("call");

        var outcome = await _pipeline.ProcessAsync(recording, attempt: 1, CancellationToken.None);

        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Equal("probe: not an audio file", outcome.FailureReason);
        Assert.Equal(
            new FailureRow(recording.Id, recording.Uri.ToString(), recording.ETag, PipelineStage.Probe, "not an audio file", 1, WillRetry: false, Now.UtcDateTime),
            Assert.Single(_store.Failures));
        Assert.Empty(_analyser.Calls);
        // The fetched copy is removed even though nothing was decoded.
        Assert.False(File.Exists(Assert.Single(_source.Paths)));
    }

    [Fact]
    public async Task A_recording_without_speech_in_either_VAD_pass_is_recorded_as_a_permanent_segment_failure_and_commits_nothing()
    {
        _analyser.Handler = _ => Task.FromResult<IReadOnlyList<UtteranceRow>>([]);

        var outcome = await _pipeline.ProcessAsync(Recording("silence"), attempt: 1, CancellationToken.None);

        Assert.Equal(OutcomeKind.NoSpeech, outcome.Kind);
        var failure = Assert.Single(_store.Failures);
        Assert.Equal((PipelineStage.Segment, false), (failure.Stage, failure.WillRetry));
        Assert.Contains("at VAD thresholds 0.5 and 0.2", failure.Reason, StringComparison.Ordinal);
        Assert.Empty(_store.Commits);
        Assert.Equal([VadPass.Primary, VadPass.Fallback], _analyser.Calls.Select(call => call.Pass));
        Assert.Equal((1, 0), (_metrics.Sum("emotionbatch.recordings.vad_fallback", "found=False"), _metrics.Sum("emotionbatch.recordings.vad_fallback", "found=True")));
    }

    [Fact]
    public async Task The_fallback_pass_hears_a_fresh_decode_of_the_fetched_file_and_both_decodes_are_disposed()
    {
        _decoder.NewAudio = () => new FakeAudio();

        await _pipeline.ProcessAsync(Recording("silence"), attempt: 1, CancellationToken.None);

        Assert.Equal(2, _decoder.Opened.Count);
        Assert.Equal(_decoder.Opened, _analyser.Calls.Select(call => call.Audio));
        Assert.All(_decoder.Opened, audio => Assert.Equal(1, audio.Disposals));
        Assert.Equal(2, _decoder.Opens.Select(open => open.Path).Where(path => path == _source.Paths.Single()).Count());
    }

    [Fact]
    public async Task A_failure_in_the_fallback_pass_is_recorded_with_its_stage_and_commits_nothing()
    {
        _decoder.NewAudio = () => new FakeAudio();
        _analyser.FallbackHandler = _ => throw new RecordingFailedException(PipelineStage.Decode, "truncated stream") { Retryable = true };

        var outcome = await _pipeline.ProcessAsync(Recording("soft"), attempt: 1, CancellationToken.None);

        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        var failure = Assert.Single(_store.Failures);
        Assert.Equal((PipelineStage.Decode, "truncated stream", true), (failure.Stage, failure.Reason, failure.WillRetry));
        Assert.Empty(_store.Commits);
        Assert.All(_decoder.Opened, audio => Assert.Equal(1, audio.Disposals));
        Assert.False(File.Exists(Assert.Single(_source.Paths)));
    }

    [Fact]
    public async Task A_recording_without_speech_at_the_threshold_commits_what_the_fallback_pass_finds()
    {
        var recording = Recording("soft");
        IReadOnlyList<UtteranceRow> found = [Row(recording, 0, 0.4) with { VadThreshold = 0.2f }];
        _analyser.Handler = _ => Task.FromResult<IReadOnlyList<UtteranceRow>>([]);
        _analyser.FallbackHandler = _ => Task.FromResult(found);

        var outcome = await _pipeline.ProcessAsync(recording, attempt: 1, CancellationToken.None);

        Assert.Equal((OutcomeKind.Completed, 1), (outcome.Kind, outcome.Utterances));
        Assert.Equal(found, Assert.Single(_store.Commits).Rows);
        Assert.Empty(_store.Failures);
        Assert.Equal([VadPass.Primary, VadPass.Fallback], _analyser.Calls.Select(call => call.Pass));
        Assert.Equal(2, _decoder.Audio.Disposals);
        Assert.Equal((1, 0), (_metrics.Sum("emotionbatch.recordings.vad_fallback", "found=True"), _metrics.Sum("emotionbatch.recordings.vad_fallback", "found=False")));
    }

    [Fact]
    public async Task With_the_fallback_off_a_recording_without_speech_is_heard_once()
    {
        var pipeline = Pipeline(new VadOptions { FallbackThreshold = 0 });
        _analyser.FallbackHandler = _ => throw new InvalidOperationException("no fallback pass was configured");

        var outcome = await pipeline.ProcessAsync(Recording("silence"), attempt: 1, CancellationToken.None);

        Assert.Equal(OutcomeKind.NoSpeech, outcome.Kind);
        Assert.Contains("at VAD threshold 0.5", Assert.Single(_store.Failures).Reason, StringComparison.Ordinal);
        Assert.Equal(VadPass.Primary, Assert.Single(_analyser.Calls).Pass);
        Assert.Equal(1, _decoder.Audio.Disposals);
    }

    [Fact]
    public async Task A_stage_failure_from_the_analyser_is_recorded_with_its_stage_and_retry()
    {
        _analyser.Handler = _ => throw new RecordingFailedException(PipelineStage.Transcribe, "whisper ran out of memory") { Retryable = true };

        var outcome = await _pipeline.ProcessAsync(Recording("call"), attempt: 1, CancellationToken.None);

        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        var failure = Assert.Single(_store.Failures);
        Assert.Equal((PipelineStage.Transcribe, "whisper ran out of memory", true), (failure.Stage, failure.Reason, failure.WillRetry));
        Assert.Empty(_store.Commits);
    }

    [Fact]
    public async Task An_unexpected_exception_is_recorded_as_a_retryable_unexpected_failure_naming_its_type()
    {
        _analyser.Handler = _ => throw new InvalidOperationException("the index was corrupt");

        var outcome = await _pipeline.ProcessAsync(Recording("call"), attempt: 1, CancellationToken.None);

        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        var failure = Assert.Single(_store.Failures);
        Assert.Equal((PipelineStage.Unexpected, true), (failure.Stage, failure.WillRetry));
        Assert.Contains(nameof(InvalidOperationException), failure.Reason, StringComparison.Ordinal);
        Assert.Contains("the index was corrupt", failure.Reason, StringComparison.Ordinal);
        Assert.Empty(_store.Commits);
    }

    [Fact]
    public async Task A_recording_with_speech_commits_the_analysers_rows_with_the_decoders_duration()
    {
        // Exactly at the limit is still allowed.
        var recording = Recording("call", MaxFileSizeBytes);
        IReadOnlyList<UtteranceRow> rows = [Row(recording, 0, 1.0), Row(recording, 1, 4.5), Row(recording, 2, 9.0)];
        _analyser.Handler = _ => Task.FromResult(rows);

        var outcome = await _pipeline.ProcessAsync(recording, attempt: 1, CancellationToken.None);

        Assert.Equal((OutcomeKind.Completed, 3, 42.5), (outcome.Kind, outcome.Utterances, outcome.AudioSeconds));
        var commit = Assert.Single(_store.Commits);
        Assert.Same(recording, commit.Recording);
        Assert.Equal(rows, commit.Rows);
        Assert.Equal(_decoder.Audio.Info.DurationSeconds, commit.DurationSeconds);
        Assert.Empty(_store.Failures);
        // The chain: fetched into the work folder, that file opened, that audio analysed.
        Assert.Equal(("call", _temp.File("work")), Assert.Single(_source.Fetches));
        Assert.Equal((Assert.Single(_source.Paths), true), Assert.Single(_decoder.Opens));
        Assert.Same(_decoder.Audio, Assert.Single(_analyser.Calls).Audio);
    }

    [Fact]
    public async Task Cancellation_while_the_analyser_runs_escapes_and_records_nothing()
    {
        using var cancellation = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _analyser.Handler = async token =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return [];
        };

        var processing = _pipeline.ProcessAsync(Recording("call"), attempt: 1, cancellation.Token);
        await started.Task.WaitAsync(Signals.Guard);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => processing.WaitAsync(Signals.Guard));
        Assert.Empty(_store.Commits);
        Assert.Empty(_store.Failures);
        Assert.Equal(1, _decoder.Audio.Disposals);
        Assert.False(File.Exists(Assert.Single(_source.Paths)));
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("no speech")]
    [InlineData("stage failure")]
    [InlineData("unexpected")]
    public async Task Every_decoded_audio_opened_and_the_fetched_file_are_disposed_whatever_the_outcome(string ending)
    {
        var recording = Recording("call");
        _analyser.Handler = ending switch
        {
            "completed" => _ => Task.FromResult<IReadOnlyList<UtteranceRow>>([Row(recording, 0, 1.0)]),
            "no speech" => _ => Task.FromResult<IReadOnlyList<UtteranceRow>>([]),
            "stage failure" => _ => throw new RecordingFailedException(PipelineStage.Decode, "truncated stream"),
            _ => _ => throw new InvalidOperationException("bug"),
        };

        await _pipeline.ProcessAsync(recording, attempt: 1, CancellationToken.None);

        // Without speech the fallback pass opens the recording a second time.
        Assert.Equal(ending == "no speech" ? 2 : 1, _decoder.Opens.Count);
        Assert.Equal(_decoder.Opens.Count, _decoder.Audio.Disposals);
        Assert.False(File.Exists(Assert.Single(_source.Paths)));
    }

    private static RecordingRef Recording(string id, long sizeBytes = 1024) => TestRecordings.Make(id) with { SizeBytes = sizeBytes };

    private static UtteranceRow Row(RecordingRef recording, int index, double start) =>
        new(recording.Id, recording.Uri.ToString(), recording.ETag, index, start, start + 1, null, null, EmotionLabels.Neutral,
            0.1f, 0.1f, 0.1f, 0.7f, 0f, 0.5f, TextUsed: false, "fake-model", "1.0", Now.UtcDateTime);
}

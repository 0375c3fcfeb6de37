using static EmotionBatch.Worker.Tests.Orchestration.TestRecordings;

namespace EmotionBatch.Worker.Tests.Orchestration;

/// <summary>
/// One pass of the batch runner over fakes of the source, the result store, the claims and the processor: what it
/// processes, what it leaves alone, and how it counts.
/// </summary>
[Trait("Category", "Fast")]
public sealed class BatchRunnerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private readonly FakeStore _store = new();
    private readonly FakeClaims _claims = new();
    private readonly FakeProcessor _processor = new();
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly TestTelemetry _metrics = new();


    public void Dispose()
    {
        _metrics.Dispose();
    }

    [Fact]
    public async Task A_pass_counts_completed_failed_no_speech_skipped_and_failed_earlier_recordings()
    {
        _store.SetState("done", new RecordingState(RecordingStatus.Completed, 1, null));
        _store.SetState("gave-up", new RecordingState(RecordingStatus.FailedPermanently, 3, null));
        _processor.Handler = (recording, _, _) => Task.FromResult(recording.Id switch
        {
            "first" => Outcome(recording, OutcomeKind.Completed, utterances: 3, audioSeconds: 10),
            "second" => Outcome(recording, OutcomeKind.Completed, utterances: 4, audioSeconds: 20.5),
            "broken" => Outcome(recording, OutcomeKind.Failed),
            "silent" => Outcome(recording, OutcomeKind.NoSpeech),
            _ => throw new InvalidOperationException($"{recording.Id} should not have been processed"),
        });
        var progress = new CollectingProgress();

        var summary = await Runner("first", "done", "broken", "gave-up", "silent", "second").RunPassAsync(progress, CancellationToken.None);

        // The fake clock stands still, so the pass took no time.
        Assert.Equal(new PassSummary(Listed: 6, Completed: 2, Failed: 1, Skipped: 1, Utterances: 7, AudioSeconds: 30.5, Elapsed: TimeSpan.Zero,
            NoSpeech: 1, FailedEarlier: 1), summary);
        Assert.Equal(new Dictionary<string, OutcomeKind>
        {
            ["first"] = OutcomeKind.Completed,
            ["done"] = OutcomeKind.Skipped,
            ["broken"] = OutcomeKind.Failed,
            ["gave-up"] = OutcomeKind.FailedEarlier,
            ["silent"] = OutcomeKind.NoSpeech,
            ["second"] = OutcomeKind.Completed,
        }, progress.KindById);
        Assert.Equal(["broken", "first", "second", "silent"], _processor.ProcessedIds);
    }

    [Fact]
    public async Task A_completed_recording_is_skipped_without_claiming_or_processing_it()
    {
        _store.SetState("done", new RecordingState(RecordingStatus.Completed, 1, null));
        var progress = new CollectingProgress();

        var summary = await Runner("done").RunPassAsync(progress, CancellationToken.None);

        Assert.Equal(OutcomeKind.Skipped, progress.KindById["done"]);
        Assert.Equal((1, 1, 0), (summary.Listed, summary.Skipped, summary.Completed));
        Assert.Empty(_processor.Calls);
        Assert.Empty(_claims.Requested);
    }

    [Fact]
    public async Task A_permanently_failed_recording_counts_as_failed_earlier_and_is_not_processed()
    {
        _store.SetState("gave-up", new RecordingState(RecordingStatus.FailedPermanently, 3, null));
        var progress = new CollectingProgress();

        var summary = await Runner("gave-up").RunPassAsync(progress, CancellationToken.None);

        Assert.Equal(OutcomeKind.FailedEarlier, progress.KindById["gave-up"]);
        Assert.Equal((1, 0, 0), (summary.FailedEarlier, summary.Skipped, summary.Failed));
        Assert.Empty(_processor.Calls);
        Assert.Empty(_claims.Requested);
    }

    [Fact]
    public async Task A_retryable_failure_waits_for_its_retry_time_and_is_then_processed_as_the_next_attempt()
    {
        var retryAfter = Start + TimeSpan.FromMinutes(5);
        _store.SetState("flaky", new RecordingState(RecordingStatus.FailedRetryable, 2, retryAfter));
        var runner = Runner("flaky");

        var backingOff = await runner.RunPassAsync(null, CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        var stillBackingOff = await runner.RunPassAsync(null, CancellationToken.None);
        Assert.Equal(1, backingOff.Skipped);
        Assert.Equal(1, stillBackingOff.Skipped);
        Assert.Empty(_processor.Calls);

        _clock.Advance(TimeSpan.FromSeconds(2));
        var due = await runner.RunPassAsync(null, CancellationToken.None);

        Assert.Equal((1, 0), (due.Completed, due.Skipped));
        Assert.Equal([("flaky", 3)], _processor.Calls);
    }

    [Fact]
    public async Task A_recording_whose_claim_another_worker_holds_is_skipped_and_the_rest_are_processed()
    {
        _claims.HeldElsewhere.Add("busy");
        var progress = new CollectingProgress();

        var summary = await Runner("busy", "free").RunPassAsync(progress, CancellationToken.None);

        Assert.Equal(OutcomeKind.Skipped, progress.KindById["busy"]);
        Assert.Equal(OutcomeKind.Completed, progress.KindById["free"]);
        Assert.Equal((1, 1), (summary.Skipped, summary.Completed));
        Assert.Equal(["free"], _processor.ProcessedIds);
    }

    [Fact]
    public async Task A_recording_another_worker_completed_before_the_claim_was_granted_is_not_processed()
    {
        // The other worker commits between this worker's first look at the state and its claim.
        _claims.OnGranted = recording => _store.SetState(recording.Id, new RecordingState(RecordingStatus.Completed, 1, null));
        var progress = new CollectingProgress();

        var summary = await Runner("raced").RunPassAsync(progress, CancellationToken.None);

        Assert.Equal(OutcomeKind.Skipped, progress.KindById["raced"]);
        Assert.Equal(1, summary.Skipped);
        Assert.Empty(_processor.Calls);
        Assert.True(_claims["raced"].Disposed);
    }

    [Fact]
    public async Task A_claim_lost_while_processing_skips_that_recording_and_the_pass_goes_on_with_the_others()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observed = CancellationToken.None;
        _processor.Handler = async (recording, _, token) =>
        {
            if (recording.Id == "contested")
            {
                observed = token;
                started.TrySetResult();
                // Runs until the processor is told to stop, as a real one would before its commit.
                await Task.Delay(Timeout.InfiniteTimeSpan, token);
            }
            return Outcome(recording, OutcomeKind.Completed, utterances: 1, audioSeconds: 1);
        };
        var progress = new CollectingProgress();

        // One at a time, so the other recordings come after the lost one.
        var pass = Runner(maxConcurrent: 1, "contested", "after-1", "after-2").RunPassAsync(progress, CancellationToken.None);
        await started.Task.WaitAsync(Signals.Guard);
        _claims["contested"].Lose();
        var summary = await pass.WaitAsync(Signals.Guard);

        Assert.True(observed.IsCancellationRequested);
        Assert.Equal(OutcomeKind.Skipped, progress.KindById["contested"]);
        Assert.Equal((3, 2, 1, 0), (summary.Listed, summary.Completed, summary.Skipped, summary.Failed));
        Assert.Equal(["after-1", "after-2", "contested"], _processor.ProcessedIds);
        Assert.True(_claims["contested"].Disposed);
    }

    [Fact]
    public async Task Cancelling_the_pass_stops_it_with_OperationCanceledException_and_releases_the_claim()
    {
        using var cancellation = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _processor.Handler = async (recording, _, token) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return Outcome(recording, OutcomeKind.Completed);
        };

        var pass = Runner(maxConcurrent: 1, "running", "never-reached").RunPassAsync(null, cancellation.Token);
        await started.Task.WaitAsync(Signals.Guard);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pass.WaitAsync(Signals.Guard));
        Assert.Equal(["running"], _processor.ProcessedIds);
        Assert.True(_claims["running"].Disposed);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task No_more_recordings_than_MaxConcurrentRecordings_are_processed_at_once(int limit)
    {
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _processor.Handler = async (recording, _, token) =>
        {
            // The first calls hold until the limit is reached, so a runner that allowed more would show it.
            if (_processor.InFlight >= limit)
            {
                full.TrySetResult();
            }
            await release.Task.WaitAsync(token);
            return Outcome(recording, OutcomeKind.Completed);
        };

        var pass = Runner(limit, "r1", "r2", "r3", "r4", "r5", "r6", "r7").RunPassAsync(null, CancellationToken.None);
        await full.Task.WaitAsync(Signals.Guard);
        release.TrySetResult();
        var summary = await pass.WaitAsync(Signals.Guard);

        Assert.Equal(7, summary.Completed);
        Assert.Equal(limit, _processor.MaxInFlight);
    }

    [Fact]
    public async Task The_claim_is_held_while_processing_and_released_afterwards_whatever_the_outcome()
    {
        var heldWhileProcessing = new Dictionary<string, bool>();
        _processor.Handler = (recording, _, _) =>
        {
            lock (heldWhileProcessing)
            {
                heldWhileProcessing[recording.Id] = !_claims[recording.Id].Disposed;
            }
            return Task.FromResult(Outcome(recording, recording.Id == "ok" ? OutcomeKind.Completed : OutcomeKind.Failed));
        };

        await Runner("ok", "broken").RunPassAsync(null, CancellationToken.None);

        Assert.Equal(new Dictionary<string, bool> { ["ok"] = true, ["broken"] = true }, heldWhileProcessing);
        Assert.True(_claims["ok"].Disposed);
        Assert.True(_claims["broken"].Disposed);
    }

    private BatchRunner Runner(params string[] recordingIds) => Runner(2, recordingIds);

    private BatchRunner Runner(int maxConcurrent, params string[] recordingIds) =>
        new(new FakeSource([.. recordingIds.Select(Make)]), _store, _claims, _processor,
            Options.Create(new WorkerOptions { MaxConcurrentRecordings = maxConcurrent }), _clock, _metrics.Telemetry, NullLogger<BatchRunner>.Instance);
}

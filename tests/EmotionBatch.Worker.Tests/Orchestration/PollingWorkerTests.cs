using EmotionBatch.Storage;

namespace EmotionBatch.Worker.Tests.Orchestration;

/// <summary>
/// The service loop over a fake pass runner, with the poll delay on a fake clock: run-once exit codes, and passes that
/// throw are retried one poll interval later.
/// </summary>
[Trait("Category", "Fast")]
public sealed class PollingWorkerTests : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private readonly SignallingTimeProvider _clock = new(Start);
    private readonly FakeLifetime _lifetime = new();
    private readonly TestTelemetry _metrics = new();


    public void Dispose()
    {
        _metrics.Dispose();
    }

    [Theory]
    [InlineData(0, ExitCodes.Success)]
    [InlineData(2, ExitCodes.SomeFailed)]
    public async Task Run_once_runs_one_pass_then_stops_the_application_with_the_exit_code_of_that_pass(int failed, int expectedExitCode)
    {
        var summary = Summary(failed);
        var runner = new FakePassRunner((_, _) => Task.FromResult(summary));
        using var worker = Worker(runner, runOnce: true);

        await worker.StartAsync(CancellationToken.None);
        await worker.ExecuteTask!.WaitAsync(Signals.Guard);

        Assert.Equal(1, runner.Calls);
        Assert.Equal(1, _lifetime.StopRequests);
        Assert.Same(summary, worker.LastPass);
        Assert.Null(worker.LastPassError);
        Assert.Equal(expectedExitCode, worker.ExitCode);
        Assert.Equal(Start, _metrics.Telemetry.LastPassFinished);
        // No poll delay after the only pass.
        Assert.Equal(0, _clock.TimersCreated);
    }

    [Fact]
    public async Task Run_once_with_a_pass_that_throws_stops_the_application_with_the_pass_failed_exit_code()
    {
        var runner = new FakePassRunner((_, _) => throw new InvalidOperationException("output store unreachable"));
        using var worker = Worker(runner, runOnce: true);

        await worker.StartAsync(CancellationToken.None);
        await worker.ExecuteTask!.WaitAsync(Signals.Guard);

        Assert.True(worker.ExecuteTask.IsCompletedSuccessfully);
        Assert.Equal(1, runner.Calls);
        Assert.Equal(1, _lifetime.StopRequests);
        Assert.Equal("output store unreachable", worker.LastPassError);
        Assert.Equal(ExitCodes.PassFailed, worker.ExitCode);
        Assert.Equal("output store unreachable", _metrics.Telemetry.LastPassError);
    }

    [Fact]
    public async Task Run_once_stopped_during_its_pass_exits_as_interrupted_without_stopping_the_application_itself()
    {
        var runner = new FakePassRunner(async (_, token) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return Summary(failed: 0);
        });
        using var worker = Worker(runner, runOnce: true);

        await worker.StartAsync(CancellationToken.None);
        await runner.FirstCall.WaitAsync(Signals.Guard);
        await worker.StopAsync(CancellationToken.None).WaitAsync(Signals.Guard);

        Assert.True(worker.ExecuteTask!.IsCompletedSuccessfully);
        Assert.Null(worker.LastPass);
        Assert.Equal(ExitCodes.Interrupted, worker.ExitCode);
        Assert.Equal(0, _lifetime.StopRequests);
    }

    [Fact]
    public async Task A_pass_that_throws_is_retried_only_once_the_poll_interval_has_passed()
    {
        var recovered = Summary(failed: 0);
        var runner = new FakePassRunner((call, _) => call == 1
            ? throw new InvalidOperationException("listing failed")
            : Task.FromResult(recovered));
        using var worker = Worker(runner, runOnce: false);

        await worker.StartAsync(CancellationToken.None);
        // The first timer is the delay after the failed pass.
        await _clock.WaitForTimersAsync(1);
        Assert.Equal("listing failed", worker.LastPassError);
        Assert.Equal("listing failed", _metrics.Telemetry.LastPassError);

        // Timers fire inside Advance, so nothing can have run a second pass yet.
        _clock.Advance(PollInterval - TimeSpan.FromTicks(1));
        Assert.Equal(1, runner.Calls);

        _clock.Advance(TimeSpan.FromTicks(1));
        // The second timer is the delay after the second pass.
        await _clock.WaitForTimersAsync(2);
        Assert.Equal(2, runner.Calls);
        Assert.Same(recovered, worker.LastPass);
        Assert.Null(worker.LastPassError);
        Assert.Null(_metrics.Telemetry.LastPassError);

        await worker.StopAsync(CancellationToken.None).WaitAsync(Signals.Guard);
        Assert.Equal(0, _lifetime.StopRequests);
    }

    [Fact]
    public async Task Stopping_the_service_during_the_poll_delay_ends_it_without_waiting_for_the_interval()
    {
        var runner = new FakePassRunner((_, _) => Task.FromResult(Summary(failed: 0)));
        using var worker = Worker(runner, runOnce: false);
        await worker.StartAsync(CancellationToken.None);
        await _clock.WaitForTimersAsync(1);

        await worker.StopAsync(CancellationToken.None).WaitAsync(Signals.Guard);

        // The fake clock never moved: the delay ended because the service stopped, not because the interval passed.
        Assert.True(worker.ExecuteTask!.IsCompletedSuccessfully);
        Assert.Equal(Start, _clock.GetUtcNow());
        Assert.Equal(1, runner.Calls);
        Assert.Equal(0, _lifetime.StopRequests);
    }

    private static PassSummary Summary(int failed) =>
        new(Listed: 5, Completed: 5 - failed, Failed: failed, Skipped: 0, Utterances: 12, AudioSeconds: 90, Elapsed: TimeSpan.FromSeconds(4));

    private PollingWorker Worker(IPassRunner runner, bool runOnce) =>
        new(runner, Options.Create(new WorkerOptions { RunOnce = runOnce }), Options.Create(new SourceOptions { PollInterval = PollInterval }),
            _lifetime, _metrics.Telemetry, _clock, NullLogger<PollingWorker>.Instance);
}

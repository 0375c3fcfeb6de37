using EmotionBatch.Worker.Observability;
using EmotionBatch.Worker.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using EmotionBatch.Storage;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Worker.Hosting;

/// <summary>
/// The service loop: a pass over the source every poll interval. A pass that throws (store unreachable, listing
/// failed) is logged and retried at the next interval, so the worker outlives outages of its storage.
/// </summary>
public sealed partial class PollingWorker : BackgroundService
{
    private readonly IPassRunner _runner;
    private readonly WorkerOptions _options;
    private readonly TimeSpan _pollInterval;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly PipelineTelemetry _telemetry;
    private readonly TimeProvider _clock;
    private readonly ILogger<PollingWorker> _logger;

    public PollingWorker(
        IPassRunner runner,
        IOptions<WorkerOptions> options,
        IOptions<SourceOptions> source,
        IHostApplicationLifetime lifetime,
        PipelineTelemetry telemetry,
        TimeProvider clock,
        ILogger<PollingWorker> logger)
    {
        _runner = runner;
        _options = options.Value;
        _pollInterval = source.Value.PollInterval;
        _lifetime = lifetime;
        _telemetry = telemetry;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>Set when <see cref="WorkerOptions.RunOnce"/> finished its pass; the process exit code derives from it.</summary>
    public PassSummary? LastPass { get; private set; }

    /// <summary>Set when a pass threw (store unreachable, listing failed).</summary>
    public string? LastPassError { get; private set; }

    /// <summary>The exit code of a <see cref="WorkerOptions.RunOnce"/> run (<see cref="ExitCodes"/>).</summary>
    public int ExitCode => ExitCodes.For(LastPass, LastPassError);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(_pollInterval.TotalSeconds, _options.MaxConcurrentRecordings);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                LastPass = await _runner.RunPassAsync(progress: null, stoppingToken).ConfigureAwait(false);
                LastPassError = null;
                _telemetry.PassFinished(_clock.GetUtcNow(), error: null);
                if (_options.RunOnce)
                {
                    _lifetime.StopApplication();
                    return;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _telemetry.PassFinished(_clock.GetUtcNow(), ex.Message);
                LastPassError = ex.Message;
                if (_options.RunOnce)
                {
                    // A scheduled job reports the failed pass through its exit code instead of polling until its deadline.
                    LogOncePassFailed(ex);
                    _lifetime.StopApplication();
                    return;
                }
                LogPassFailed(ex, _pollInterval.TotalSeconds);
            }

            try
            {
                await Task.Delay(_pollInterval, _clock, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "Worker started: polling every {IntervalSeconds} s with {Concurrency} recording(s) at a time")]
    private partial void LogStarted(double intervalSeconds, int concurrency);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Error, Message = "Pass failed; stopping (run once)")]
    private partial void LogOncePassFailed(Exception exception);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Error, Message = "Pass failed; retrying in {IntervalSeconds} s")]
    private partial void LogPassFailed(Exception exception, double intervalSeconds);
}

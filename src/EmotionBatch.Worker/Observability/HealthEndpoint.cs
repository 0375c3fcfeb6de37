using System.Net;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using EmotionBatch.Storage;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Worker.Observability;

/// <summary>
/// Serves /healthz (liveness: the poll loop is not stuck) and /readyz (readiness: the last pass reached the store)
/// for container orchestrators. A plain HttpListener keeps the worker free of a web framework.
/// </summary>
public sealed partial class HealthEndpoint : BackgroundService
{
    private readonly PipelineTelemetry _telemetry;
    private readonly TimeSpan _pollInterval;
    private readonly TelemetryOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<HealthEndpoint> _logger;
    private readonly DateTimeOffset _started;

    public HealthEndpoint(PipelineTelemetry telemetry, IOptions<SourceOptions> source, IOptions<TelemetryOptions> options, TimeProvider clock, ILogger<HealthEndpoint> logger)
    {
        _telemetry = telemetry;
        _pollInterval = source.Value.PollInterval;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _started = clock.GetUtcNow();
    }

    /// <summary>A loop that has not finished a pass in this long is reported dead; long recordings get generous slack.</summary>
    private TimeSpan StallLimit => TimeSpan.FromTicks(Math.Max(_pollInterval.Ticks * 4, TimeSpan.FromHours(2).Ticks));

    public (int Status, string Body) Check(string path)
    {
        var now = _clock.GetUtcNow();
        var lastPass = _telemetry.LastPassFinished;
        switch (path)
        {
            case "/healthz":
                var since = lastPass ?? _started;
                return now - since <= StallLimit
                    ? (200, "ok")
                    : (503, $"no pass finished for {(now - since).TotalMinutes:F0} min");
            case "/readyz":
                if (lastPass is null)
                {
                    return (503, "first pass not finished");
                }
                return _telemetry.LastPassError is { } error ? (503, "last pass failed: " + error) : (200, "ready");
            default:
                return (404, "not found");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.HealthPort == 0)
        {
            return;
        }
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://{_options.ListenerHost}:{_options.HealthPort}/");
        if (_options.ListenerHost is "127.0.0.1" or "localhost")
        {
            // HttpListener matches the Host header: answer probes that say localhost as well as 127.0.0.1.
            listener.Prefixes.Add($"http://{(_options.ListenerHost == "localhost" ? "127.0.0.1" : "localhost")}:{_options.HealthPort}/");
        }
        try
        {
            listener.Start();
        }
        catch (HttpListenerException ex)
        {
            LogCannotListen(ex, _options.HealthPort);
            return;
        }
        LogListening(_options.HealthAddress, _options.HealthPort);
        using var registration = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue;
            }
            await RespondAsync(context, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task RespondAsync(HttpListenerContext context, CancellationToken stoppingToken)
    {
        var (status, body) = Check(context.Request.Url?.AbsolutePath ?? "/");
        var bytes = Encoding.UTF8.GetBytes(body + "\n");
        try
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.OutputStream.WriteAsync(bytes, stoppingToken).ConfigureAwait(false);
            context.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A probe that hung up mid-response is its own problem: the endpoint, and the host, carry on.
            LogClientGone(ex.Message);
            context.Response.Abort();
        }
    }

    [LoggerMessage(EventId = 4040, Level = LogLevel.Information, Message = "Health endpoint on {Address}:{Port}: /healthz, /readyz")]
    private partial void LogListening(string address, int port);

    [LoggerMessage(EventId = 4041, Level = LogLevel.Debug, Message = "Health probe hung up before its answer was written: {Reason}")]
    private partial void LogClientGone(string reason);

    [LoggerMessage(EventId = 4042, Level = LogLevel.Warning, Message = "Health endpoint could not listen on port {Port}; continuing without it")]
    private partial void LogCannotListen(Exception exception, int port);
}

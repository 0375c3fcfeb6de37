using System.Globalization;
using EmotionBatch.Worker.Cli;
using EmotionBatch.Worker.Hosting;
using EmotionBatch.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EmotionBatch.Benchmarking;

/// <summary>
/// The worker's own host (<see cref="EmotionBatchHost"/>), configured from the bench's settings: every stage the bench
/// times is resolved from the service registrations <c>emotionbatch</c> runs, so it measures the product, not a copy.
/// </summary>
public sealed class BenchHost : IDisposable
{
    private readonly IHost _host;

    private BenchHost(IHost host)
    {
        _host = host;
    }

    /// <param name="source">Folder (or file) of recordings the host's source lists.</param>
    /// <param name="outputFolder">Local output folder of the host's result store.</param>
    /// <param name="overrides">Further configuration keys, applied last (e.g. Whisper settings of one ASR row).</param>
    public static BenchHost Create(BenchSettings settings, string source, string outputFolder, string workFolder, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var configuration = Settings(settings, workFolder);
        foreach (var (key, value) in TargetSettings.For(source))
        {
            configuration[key] = value;
        }
        configuration["EmotionBatch:Output:Kind"] = "Local";
        configuration["EmotionBatch:Output:LocalPath"] = Path.GetFullPath(outputFolder);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }
        return new BenchHost(EmotionBatchHost.CreateBuilder([], configuration, LogLevel.Warning).Build());
    }

    /// <summary>A service as the worker registers it.</summary>
    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    /// <summary>One pass of the worker's batch runner over the source, timed after the host (and its models) started.</summary>
    public async Task<PipelineRunResult> RunPassAsync(CancellationToken cancellationToken)
    {
        await _host.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Resolving the runner loads the models, so the pass below times processing only.
            var runner = Get<IPassRunner>();
            var cpuBefore = CpuClock.Seconds();
            var summary = await runner.RunPassAsync(progress: null, cancellationToken).ConfigureAwait(false);
            return new PipelineRunResult(summary.Completed, summary.Failed, summary.Utterances, summary.AudioSeconds, summary.Elapsed, CpuClock.Seconds() - cpuBefore);
        }
        finally
        {
            await _host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    public void Dispose() => _host.Dispose();

    /// <summary>Configuration the bench's settings make (model, VAD, Whisper, threads), as `emotionbatch` would read it.</summary>
    private static Dictionary<string, string?> Settings(BenchSettings s, string workFolder) => new()
    {
        ["EmotionBatch:Decoder:FfmpegFolder"] = s.FfmpegFolder ?? "",
        ["EmotionBatch:Model:BundlePath"] = Path.GetFullPath(s.BundlePath),
        ["EmotionBatch:Model:BatchSize"] = s.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["EmotionBatch:Model:IntraOpThreads"] = s.EffectiveThreads.ToString(CultureInfo.InvariantCulture),
        ["EmotionBatch:Model:IntraOpSpinning"] = s.Spinning ? "true" : "false",
        ["EmotionBatch:Vad:ModelPath"] = Path.GetFullPath(s.VadModel),
        ["EmotionBatch:Vad:Lanes"] = s.VadLanes.ToString(CultureInfo.InvariantCulture),
        ["EmotionBatch:Transcription:ModelPath"] = s.WhisperModel is null ? "" : Path.GetFullPath(s.WhisperModel),
        ["EmotionBatch:Transcription:Threads"] = s.EffectiveThreads.ToString(CultureInfo.InvariantCulture),
        ["EmotionBatch:Transcription:ExpectedSha256"] = "",
        ["EmotionBatch:Transcription:Language"] = s.WhisperLanguage,
        ["EmotionBatch:Transcription:PackSeconds"] = s.PackSeconds.ToString(CultureInfo.InvariantCulture),
        ["EmotionBatch:Transcription:MaxTokensPerSegment"] = s.WhisperMaxTokens.ToString(CultureInfo.InvariantCulture),
        // Random-weight models would decode to the context limit at every fallback temperature.
        ["EmotionBatch:Transcription:TemperatureFallback"] = "false",
        ["EmotionBatch:Transcription:FlashAttention"] = s.FlashAttention ? "true" : "false",
        ["EmotionBatch:Worker:WorkFolder"] = workFolder,
        ["EmotionBatch:Decoder:MaxDurationSeconds"] = (7 * 24 * 3600).ToString(CultureInfo.InvariantCulture),
        ["EmotionBatch:Telemetry:Exporter"] = "None",
        ["EmotionBatch:Telemetry:HealthPort"] = "0",
        ["Logging:LogLevel:Default"] = "Error",
    };
}

using EmotionBatch.Audio;
using EmotionBatch.Inference;
using EmotionBatch.Storage;
using EmotionBatch.Transcription;
using EmotionBatch.Worker.Observability;
using EmotionBatch.Worker.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EmotionBatch.Worker.Hosting;

/// <summary>Builds the host shared by every command: configuration, logging, and the stages wired together.</summary>
public static class EmotionBatchHost
{
    /// <param name="overrides">Settings that win over appsettings.json and the environment (command-line targets).</param>
    public static HostApplicationBuilder CreateBuilder(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, LogLevel minimumLevel = LogLevel.Information)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = ResolveContentRoot(),
        });

        if (overrides is { Count: > 0 })
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(console => console.FormatterName = EscapingConsoleFormatter.FormatterName)
            .AddConsoleFormatter<EscapingConsoleFormatter, Microsoft.Extensions.Logging.Console.ConsoleFormatterOptions>();
        builder.Logging.SetMinimumLevel(minimumLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Azure", LogLevel.Warning);
        // The host logs a failed start with its stack trace; Program prints the reason once instead.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

        builder.Services.AddEmotionBatch(builder.Configuration);
        return builder;
    }

    public static IServiceCollection AddEmotionBatch(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection(WorkerOptions.SectionName).Get<WorkerOptions>() ?? new WorkerOptions();
        services.AddEmotionBatchStorage(configuration, limits.MaxFileSizeBytes);
        services.AddEmotionBatchAudio(configuration);
        services.AddEmotionBatchTranscription(configuration);
        services.AddEmotionBatchInference(configuration);

        services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddOptions<TelemetryOptions>()
            .BindConfiguration(TelemetryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddEmotionBatchTelemetry(configuration);

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IUtteranceAnalyser, UtteranceAnalyser>();
        services.AddSingleton<RecordingPipeline>();
        services.AddSingleton<IRecordingProcessor>(provider => provider.GetRequiredService<RecordingPipeline>());
        services.AddSingleton<BatchRunner>();
        services.AddSingleton<IPassRunner>(provider => provider.GetRequiredService<BatchRunner>());
        services.AddHostedService<WorkFolderSweep>();
        return services;
    }

    /// <summary>The folder whose appsettings.json is used: the current one if it has one, else the program's own.</summary>
    private static string ResolveContentRoot()
    {
        var current = Directory.GetCurrentDirectory();
        return File.Exists(Path.Combine(current, "appsettings.json")) ? current : AppContext.BaseDirectory;
    }

    private static void AddEmotionBatchTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.AddSingleton<PipelineTelemetry>();

        var options = configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (options.Exporter == TelemetryExporter.None)
        {
            return;
        }
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("emotionbatch", serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(PipelineTelemetry.Name);
                if (options.Exporter == TelemetryExporter.Console)
                {
                    metrics.AddConsoleExporter();
                }
                else
                {
                    metrics.AddOtlpExporter(otlp => ApplyEndpoint(otlp, options));
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(PipelineTelemetry.Name);
                if (options.Exporter == TelemetryExporter.Console)
                {
                    tracing.AddConsoleExporter();
                }
                else
                {
                    tracing.AddOtlpExporter(otlp => ApplyEndpoint(otlp, options));
                }
            });
    }

    private static void ApplyEndpoint(OpenTelemetry.Exporter.OtlpExporterOptions otlp, TelemetryOptions options)
    {
        if (options.OtlpEndpoint is not null)
        {
            otlp.Endpoint = options.OtlpEndpoint;
        }
    }
}

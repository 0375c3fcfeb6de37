using System.ComponentModel.DataAnnotations;

namespace EmotionBatch.Worker.Observability;

public enum TelemetryExporter
{
    None,
    Console,
    Otlp,
}

/// <summary>Where metrics and traces go, and the health endpoint (section "EmotionBatch:Telemetry").</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "EmotionBatch:Telemetry";

    public TelemetryExporter Exporter { get; set; } = TelemetryExporter.None;

    /// <summary>OTLP collector endpoint; the OTEL_EXPORTER_OTLP_* environment variables work too.</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>Port of the /healthz and /readyz endpoint served by <c>run</c>; 0 turns it off.</summary>
    [Range(0, 65535)]
    public int HealthPort { get; set; } = 8080;
}

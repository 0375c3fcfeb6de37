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

    /// <summary>
    /// Address the health endpoint binds: loopback by default, so a worker started by hand is not reachable from the
    /// network; the container image and the Kubernetes manifests set 0.0.0.0 (all interfaces) for their probes.
    /// </summary>
    [RegularExpression(@"^(0\.0\.0\.0|\*|\+|localhost|127(\.\d{1,3}){3}|::1|\[::1\]|\d{1,3}(\.\d{1,3}){3})$",
        ErrorMessage = "EmotionBatch:Telemetry:HealthAddress must be an IPv4 address, localhost, ::1 or 0.0.0.0 (all interfaces).")]
    public string HealthAddress { get; set; } = "127.0.0.1";

    /// <summary>The HttpListener prefix host: all interfaces are '+'.</summary>
    internal string ListenerHost => HealthAddress switch
    {
        "0.0.0.0" or "*" or "+" => "+",
        "::1" => "[::1]",
        _ => HealthAddress,
    };
}

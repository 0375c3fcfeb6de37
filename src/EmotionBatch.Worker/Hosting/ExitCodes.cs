using EmotionBatch.Worker.Pipeline;

namespace EmotionBatch.Worker.Hosting;

/// <summary>Exit codes of <c>process</c> and <c>run --once</c> (docs/reliability.md).</summary>
public static class ExitCodes
{
    /// <summary>Every due recording was processed, or held no speech.</summary>
    public const int Success = 0;

    /// <summary>Could not start: invalid settings, an unusable output folder.</summary>
    public const int CouldNotStart = 1;

    /// <summary>The pass itself failed (storage unreachable, listing failed).</summary>
    public const int PassFailed = 2;

    /// <summary>Some recordings failed; the errors dataset says why.</summary>
    public const int SomeFailed = 3;

    /// <summary>Stopped (SIGTERM, Ctrl+C) before a pass finished: a scheduled job must not look successful.</summary>
    public const int Interrupted = 130;

    /// <summary>The code for a pass that ended with <paramref name="summary"/> (null: it never finished) or threw <paramref name="passError"/>.</summary>
    public static int For(PassSummary? summary, string? passError = null) =>
        passError is not null ? PassFailed
        : summary is null ? Interrupted
        : summary.Failed > 0 ? SomeFailed
        : Success;
}

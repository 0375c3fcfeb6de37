using EmotionBatch.Testing;
using EmotionBatch.Worker.Hosting;
using EmotionBatch.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EmotionBatch.Worker.Tests;

/// <summary>The real host, wired as in production, pointed at test sources and outputs.</summary>
internal static class WorkerHarness
{
    /// <summary>The trained default bundle when it exists, else the untrained wiring bundle.</summary>
    public static string Bundle =>
        File.Exists(Path.Combine(RepoPaths.DefaultBundle, "manifest.json"))
            ? RepoPaths.DefaultBundle
            : Path.Combine(RepoPaths.Root, "models", "untrained");

    public static Dictionary<string, string?> BaseSettings(string workFolder) => new()
    {
        ["EmotionBatch:Worker:WorkFolder"] = workFolder,
        ["EmotionBatch:Vad:ModelPath"] = RepoPaths.SileroVadOnnx,
        ["EmotionBatch:Model:BundlePath"] = Bundle,
        ["EmotionBatch:Model:IntraOpThreads"] = "1",
        ["EmotionBatch:Output:RetryBackoff"] = "00:00:00",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public static async Task<PassSummary> RunPassAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken = default)
    {
        var builder = EmotionBatchHost.CreateBuilder([], settings);
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        try
        {
            return await host.Services.GetRequiredService<BatchRunner>().RunPassAsync(progress: null, cancellationToken);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}

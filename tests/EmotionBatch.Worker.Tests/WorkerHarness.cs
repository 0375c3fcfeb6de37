using EmotionBatch.Testing;
using EmotionBatch.Worker.Hosting;
using EmotionBatch.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EmotionBatch.Worker.Tests;

/// <summary>The real host, wired as in production, pointed at test sources and outputs.</summary>
internal static class WorkerHarness
{
    public static string Bundle => WorkerProcess.Bundle;

    /// <summary>The settings every test worker uses, with logs limited to warnings for in-process runs.</summary>
    public static Dictionary<string, string?> BaseSettings(string workFolder)
    {
        var settings = WorkerProcess.BaseSettings(workFolder);
        settings["Logging:LogLevel:Default"] = "Warning";
        return settings;
    }

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

using EmotionBatch.Benchmarking;
using EmotionBatch.Worker.Hosting;
using EmotionBatch.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EmotionBatch.Worker.Cli;

/// <summary>The bench's whole-pipeline pass: the same host, batch runner and pipeline as <c>process</c>, with a local output.</summary>
public static class BenchPipeline
{
    public static async Task<PipelineRunResult> RunAsync(PipelineRunRequest request, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>(request.Settings);
        foreach (var (key, value) in TargetSettings.For(request.Source))
        {
            overrides[key] = value;
        }
        overrides["EmotionBatch:Output:Kind"] = "Local";
        overrides["EmotionBatch:Output:LocalPath"] = Path.GetFullPath(request.OutputFolder);

        var builder = EmotionBatchHost.CreateBuilder([], overrides, LogLevel.Warning);
        using var host = builder.Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Resolving the runner loads the models, so the pass below times processing only.
            var runner = host.Services.GetRequiredService<BatchRunner>();
            var cpuBefore = CpuClock.Seconds();
            var summary = await runner.RunPassAsync(progress: null, cancellationToken).ConfigureAwait(false);
            return new PipelineRunResult(summary.Completed, summary.Failed, summary.Utterances, summary.AudioSeconds, summary.Elapsed, CpuClock.Seconds() - cpuBefore);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}

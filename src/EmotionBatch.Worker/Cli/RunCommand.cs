using System.CommandLine;
using EmotionBatch.Worker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EmotionBatch.Worker.Cli;

/// <summary><c>run</c>: the long-running service (or one pass with --once, for scheduled jobs).</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var once = new Option<bool>("--once") { Description = "Stop after one pass over the source (scheduled jobs)." };
        var command = new Command("run", "Run the worker service: poll the configured source and write Parquet rows.");
        command.Options.Add(once);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(once))
            {
                overrides["EmotionBatch:Worker:RunOnce"] = "true";
            }
            var builder = EmotionBatchHost.CreateBuilder([], overrides);
            builder.Services.AddSingleton<PollingWorker>();
            builder.Services.AddHostedService(provider => provider.GetRequiredService<PollingWorker>());
            builder.Services.AddHostedService<Observability.HealthEndpoint>();
            using var host = builder.Build();
            // SIGTERM/Ctrl+C end the wait: the current recording is abandoned uncommitted and redone next time.
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            var worker = host.Services.GetRequiredService<PollingWorker>();
            await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return worker.ExitCode;
        });
        return command;
    }
}

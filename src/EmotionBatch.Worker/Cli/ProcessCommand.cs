using System.CommandLine;
using EmotionBatch.Worker.Hosting;
using EmotionBatch.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EmotionBatch.Worker.Cli;

/// <summary><c>process &lt;file|folder|blob-uri&gt;</c>: one pass over a target, with a line of progress per recording.</summary>
public static class ProcessCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("target")
        {
            Description = "A recording file, a folder of recordings, or a blob container URI (https://account.blob.core.windows.net/container[/prefix]).",
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Local folder for the Parquet output (default: EmotionBatch:Output from configuration).",
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every stage, not only warnings." };

        var command = new Command("process", "Process a file, folder or blob container once and write Parquet rows.");
        command.Arguments.Add(target);
        command.Options.Add(output);
        command.Options.Add(verbose);
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(target), parse.GetValue(output), parse.GetValue(verbose), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string target, string? output, bool verbose, CancellationToken cancellationToken)
    {
        var overrides = TargetSettings.For(target);
        if (output is not null)
        {
            overrides["EmotionBatch:Output:Kind"] = "Local";
            overrides["EmotionBatch:Output:LocalPath"] = Path.GetFullPath(output);
        }

        if (!verbose)
        {
            // The progress lines are the output; logs only for what needs attention.
            overrides["Logging:LogLevel:Default"] = "Warning";
        }
        var builder = EmotionBatchHost.CreateBuilder([], overrides, verbose ? LogLevel.Information : LogLevel.Warning);
        using var host = builder.Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var runner = host.Services.GetRequiredService<BatchRunner>();
            var display = new ProgressDisplay(Console.Out);
            var summary = await runner.RunPassAsync(display, cancellationToken).ConfigureAwait(false);
            display.WriteSummary(summary);
            return ExitCodes.For(summary);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}

/// <summary>Turns a command-line target into source settings that override configuration.</summary>
public static class TargetSettings
{
    public static Dictionary<string, string?> For(string target)
    {
        if (Uri.TryCreate(target, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
        {
            // https://account.blob.core.windows.net/container/optional/prefix (a SAS query, if any, stays in the service URI only).
            // Emulators and IP endpoints are path-style: the account is the first path segment, part of the service URI.
            var pathStyle = uri.IsLoopback || uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6;
            var path = uri.AbsolutePath.Trim('/');
            var accountPath = "/";
            if (pathStyle)
            {
                var account = path.Split('/', 2);
                accountPath = "/" + account[0];
                path = account.Length > 1 ? account[1] : "";
            }
            var segments = path.Split('/', 2);
            if (segments[0].Length == 0)
            {
                throw new ArgumentException($"The blob URI names no container: {uri.GetLeftPart(UriPartial.Path)}");
            }
            var serviceUri = new UriBuilder(uri) { Path = accountPath }.Uri;
            return new Dictionary<string, string?>
            {
                ["EmotionBatch:Source:Kind"] = "Blob",
                ["EmotionBatch:Source:ServiceUri"] = serviceUri.ToString(),
                ["EmotionBatch:Source:ContainerName"] = Uri.UnescapeDataString(segments[0]),
                ["EmotionBatch:Source:Prefix"] = segments.Length > 1 ? Uri.UnescapeDataString(segments[1]) : "",
            };
        }

        var full = Path.GetFullPath(target);
        if (!File.Exists(full) && !Directory.Exists(full))
        {
            throw new FileNotFoundException($"No such file or folder: {full}", full);
        }
        return new Dictionary<string, string?>
        {
            ["EmotionBatch:Source:Kind"] = "Local",
            ["EmotionBatch:Source:LocalPath"] = full,
        };
    }
}

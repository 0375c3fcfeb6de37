using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Worker.Hosting;

/// <summary>
/// At start-up, removes what a killed worker left in the work folder (half-downloaded <c>.partial</c> files,
/// downloads that were never decoded): files named as the worker names them, nothing else. Only files untouched for <see cref="StaleAfter"/> go, so a second worker that
/// shares the folder and is downloading right now keeps its files.
/// </summary>
public sealed partial class WorkFolderSweep : IHostedService
{
    /// <summary>A download in progress writes continuously; an hour without a write means its worker is gone.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    private readonly WorkerOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<WorkFolderSweep> _logger;

    public WorkFolderSweep(IOptions<WorkerOptions> options, TimeProvider clock, ILogger<WorkFolderSweep> logger)
    {
        _options = options.Value;
        _clock = clock;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(_options.WorkFolder);
        if (!Directory.Exists(folder))
        {
            return Task.CompletedTask;
        }
        var cutoff = _clock.GetUtcNow().UtcDateTime - StaleAfter;
        var removed = 0;
        // Top level only: the worker writes nothing deeper, and a mis-set WorkFolder must not empty a tree.
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            try
            {
                var info = new FileInfo(file);
                // Only names the worker itself writes (recording key, extension, optional download suffix), so a
                // WorkFolder set to a folder with other files in it loses nothing. Links (made for names with control
                // characters) are left alone: one may belong to a live worker, and a stale one holds no data.
                if (!WorkFileName().IsMatch(info.Name) || info.LinkTarget is not null || info.LastWriteTimeUtc >= cutoff)
                {
                    continue;
                }
                info.Delete();
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogCannotRemove(file, ex.Message);
            }
        }
        if (removed > 0)
        {
            LogSwept(removed, folder);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9a-f]{32}-[0-9a-f]{32}\\.[a-z0-9]{1,8}(\\.[0-9a-f]{32}\\.partial)?$")]
    private static partial System.Text.RegularExpressions.Regex WorkFileName();

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} stale file(s) a stopped worker left in {Folder}")]
    private partial void LogSwept(int count, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove stale work file {File}: {Reason}")]
    private partial void LogCannotRemove(string file, string reason);
}

using EmotionBatch.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Worker.Hosting;

/// <summary>
/// At start-up, removes what a killed worker left in the work folder (half-downloaded <c>.partial</c> files,
/// downloads that were never decoded); which files qualify is <see cref="WorkFolderFiles.RemoveAbandoned"/>'s rule.
/// </summary>
public sealed partial class WorkFolderSweep : IHostedService
{
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
        var (removed, failures) = WorkFolderFiles.RemoveAbandoned(folder, _clock.GetUtcNow());
        foreach (var (file, reason) in failures)
        {
            LogCannotRemove(file, reason);
        }
        if (removed > 0)
        {
            LogSwept(removed, folder);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4030, Level = LogLevel.Information, Message = "Removed {Count} stale file(s) a stopped worker left in {Folder}")]
    private partial void LogSwept(int count, string folder);

    [LoggerMessage(EventId = 4031, Level = LogLevel.Warning, Message = "Could not remove stale work file {File}: {Reason}")]
    private partial void LogCannotRemove(string file, string reason);
}

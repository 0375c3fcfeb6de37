using Microsoft.Extensions.Logging;

namespace EmotionBatch.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Source folder {Folder} does not exist; nothing to list")]
    public static partial void SourceFolderMissing(ILogger logger, string folder);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Skipping {RecordingId} this poll: {Reason}")]
    public static partial void SourceFileUnreadable(ILogger logger, string recordingId, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Not a candidate: {RecordingId} is {Reason}")]
    public static partial void SourceEntrySkipped(ILogger logger, string recordingId, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Blob {RecordingId} changed or vanished before it was fetched (HTTP {Status})")]
    public static partial void BlobChangedBeforeFetch(ILogger logger, string recordingId, int status);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "Committed {RecordingId} ({Key}): {Rows} rows to {Output}")]
    public static partial void Committed(ILogger logger, string recordingId, string key, int rows, string output);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Removed older version {OldVersion} of {RecordingId} ({OldOutput})")]
    public static partial void RemovedOldVersion(ILogger logger, string recordingId, string oldVersion, string oldOutput);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Recorded failure of {RecordingId} ({Key}) attempt {Attempt}, will retry: {WillRetry}")]
    public static partial void FailureRecorded(ILogger logger, string recordingId, string key, int attempt, bool willRetry);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Debug, Message = "Claimed {RecordingId} for {LeaseSeconds} s (renewed while processing)")]
    public static partial void Claimed(ILogger logger, string recordingId, double leaseSeconds);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "Lost the claim on {RecordingId} ({Reason}); its work stops uncommitted and is redone by whoever claims it next")]
    public static partial void ClaimLost(ILogger logger, string recordingId, string reason);
}

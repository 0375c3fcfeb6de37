using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using EmotionBatch.Core;
using EmotionBatch.Datasets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EmotionBatch.Storage;

/// <summary>
/// Writes the utterances and errors datasets as Parquet files plus a JSON ledger, on any <see cref="IObjectStore"/>.
/// Layout and guarantees are in docs/schema.md. Every name derives from the recording key, so repeating any step
/// overwrites instead of duplicating; the done record is written last, so a crash before it only means the
/// recording is processed again.
/// </summary>
public sealed partial class ParquetResultStore : IResultStore
{
    private readonly IObjectStore _store;
    private readonly OutputOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    internal ParquetResultStore(IObjectStore store, OutputOptions options, TimeProvider? timeProvider = null, ILogger<ParquetResultStore>? logger = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<ParquetResultStore>.Instance;
    }

    /// <summary>Datasets under a local folder.</summary>
    public static ParquetResultStore ForLocalFolder(string root, OutputOptions? options = null, TimeProvider? timeProvider = null, ILogger<ParquetResultStore>? logger = null) =>
        new(new LocalObjectStore(root), options ?? new OutputOptions(), timeProvider, logger);

    /// <summary>Datasets in a blob container, under <paramref name="prefix"/> when given. The container is created on first write if missing.</summary>
    public static ParquetResultStore ForBlobContainer(BlobContainerClient container, string? prefix = null, OutputOptions? options = null, TimeProvider? timeProvider = null, ILogger<ParquetResultStore>? logger = null) =>
        new(new BlobObjectStore(container, prefix), options ?? new OutputOptions(), timeProvider, logger);

    public string Description => $"Parquet datasets in {_store.Description}";

    internal IObjectStore Store => _store;

    public async Task<RecordingState> GetStateAsync(RecordingRef recording, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var key = recording.Key;
        if (await _store.ExistsAsync(DoneName(key), cancellationToken).ConfigureAwait(false))
        {
            return new RecordingState(RecordingStatus.Completed, 0, null);
        }
        var failed = LedgerJson.Deserialize<FailedRecord>(await _store.TryGetAsync(FailedName(key), cancellationToken).ConfigureAwait(false));
        if (failed is null)
        {
            return new RecordingState(RecordingStatus.New, 0, null);
        }
        return _options.RetryPolicy.StateAfter(failed.Attempts, failed.Permanent, failed.RetryAfter);
    }

    /// <summary>
    /// Replaces whatever this recording had in the utterances dataset with <paramref name="rows"/>. A recording with
    /// no utterances gets a done record and no parquet file.
    /// </summary>
    public Task CommitAsync(RecordingRef recording, IReadOnlyList<UtteranceRow> rows, CancellationToken cancellationToken) =>
        CommitAsync(recording, rows, recordingDurationSeconds: null, cancellationToken);

    public async Task CommitAsync(RecordingRef recording, IReadOnlyList<UtteranceRow> rows, double? recordingDurationSeconds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        ArgumentNullException.ThrowIfNull(rows);
        var key = recording.Key;
        var output = UtteranceName(recording);

        // A crashed earlier commit of this version may have written its rows under another partition (the file's
        // modified time moved since, e.g. a touch): those go first, so the version never has two files.
        await RemoveAnnouncedOutputAsync(key, keep: rows.Count > 0 ? output : null, cancellationToken).ConfigureAwait(false);

        if (rows.Count > 0)
        {
            // Announce the file before writing it, so a crash in between still leaves it findable for clean-up.
            await PutJsonAsync(OutputsName(key), new OutputRecord(recording.Id, recording.ETag, output), cancellationToken).ConfigureAwait(false);
            var safeRows = rows.Select(row => row with { RecordingUri = Redact.Uri(row.RecordingUri) }).ToList();
            await PutParquetAsync(output, (stream, token) => UtteranceParquet.WriteAsync(safeRows, stream, token), cancellationToken).ConfigureAwait(false);

            // The summaries are named after the utterances file, so they are replaced and removed with it.
            RecordingSummary[] summary = [RecordingSummary.From(safeRows, recordingDurationSeconds)];
            await PutParquetAsync(SummaryName(output), (stream, token) => SummaryParquet.WriteAsync(summary, stream, token), cancellationToken).ConfigureAwait(false);
            var channels = ChannelSummary.From(safeRows, recordingDurationSeconds);
            await PutParquetAsync(ChannelSummaryName(output), (stream, token) => ChannelSummaryParquet.WriteAsync(channels, stream, token), cancellationToken)
                .ConfigureAwait(false);
        }
        else
        {
            // An earlier commit of this same version may have had rows.
            await DeleteOutputAsync(output, cancellationToken).ConfigureAwait(false);
            await _store.DeleteAsync(OutputsName(key), cancellationToken).ConfigureAwait(false);
        }

        // Old versions go before the done record: if we crash here, this version is still New and the next run finishes the job.
        await RemoveOtherVersionsAsync(recording, key, cancellationToken).ConfigureAwait(false);

        var done = new DoneRecord(recording.Id, recording.ETag, Redact.Uri(recording.Uri.ToString()), rows.Count > 0 ? output : null, rows.Count, _time.GetUtcNow());
        await PutJsonAsync(DoneName(key), done, cancellationToken).ConfigureAwait(false);
        await _store.DeleteAsync(FailedName(key), cancellationToken).ConfigureAwait(false);
        StorageLog.Committed(_logger, recording.Id, key.ToString(), rows.Count, done.Output ?? "(no rows)");
    }

    /// <summary>
    /// Appends the failure to the errors dataset and counts the attempt in the ledger. The store owns the count:
    /// the row's <see cref="FailureRow.Attempt"/> is set to the ledger's next attempt, and <see cref="FailureRow.WillRetry"/>
    /// stays true only if the caller said so and attempts are left (false from the caller marks the failure permanent).
    /// </summary>
    public async Task RecordFailureAsync(RecordingRef recording, FailureRow failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        ArgumentNullException.ThrowIfNull(failure);
        var key = recording.Key;
        var previous = LedgerJson.Deserialize<FailedRecord>(await _store.TryGetAsync(FailedName(key), cancellationToken).ConfigureAwait(false));
        var attempt = (previous?.Attempts ?? 0) + 1;
        var retry = _options.RetryPolicy;
        var willRetry = retry.WillRetry(failure.WillRetry, attempt);
        var now = _time.GetUtcNow();

        var row = failure with
        {
            RecordingUri = Redact.Uri(failure.RecordingUri),
            Reason = Redact.Secrets(failure.Reason),
            Attempt = attempt,
            WillRetry = willRetry,
        };
        await PutParquetAsync(DatasetLayout.ErrorFile(recording, attempt), (stream, token) => FailureParquet.WriteAsync([row], stream, token), cancellationToken)
            .ConfigureAwait(false);

        var record = new FailedRecord(recording.Id, recording.ETag, attempt, Permanent: !willRetry, now, willRetry ? now + retry.Backoff(attempt) : null, row.Stage, row.Reason);
        await PutJsonAsync(FailedName(key), record, cancellationToken).ConfigureAwait(false);

        // An earlier attempt of this version may have died between writing its rows and its done record; a failed
        // version must not leave those rows behind. A committed version keeps its rows whatever a late failure says.
        if (!await _store.ExistsAsync(DoneName(key), cancellationToken).ConfigureAwait(false))
        {
            await RemoveAnnouncedOutputAsync(key, keep: null, cancellationToken).ConfigureAwait(false);
            await DeleteOutputAsync(UtteranceName(recording), cancellationToken).ConfigureAwait(false);
            await _store.DeleteAsync(OutputsName(key), cancellationToken).ConfigureAwait(false);
        }
        StorageLog.FailureRecorded(_logger, recording.Id, key.ToString(), attempt, willRetry);
    }

    /// <summary>Deletes the utterances and summary files that this version's announcement names, unless it is <paramref name="keep"/>.</summary>
    private async Task RemoveAnnouncedOutputAsync(RecordingKey key, string? keep, CancellationToken cancellationToken)
    {
        var announced = LedgerJson.Deserialize<OutputRecord>(await _store.TryGetAsync(OutputsName(key), cancellationToken).ConfigureAwait(false));
        if (announced?.Output is { } file && file != keep && IsOwnUtteranceFile(file, key))
        {
            await DeleteOutputAsync(file, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>An utterances file and the summaries named after it.</summary>
    private async Task DeleteOutputAsync(string utteranceName, CancellationToken cancellationToken)
    {
        await _store.DeleteAsync(utteranceName, cancellationToken).ConfigureAwait(false);
        await _store.DeleteAsync(SummaryName(utteranceName), cancellationToken).ConfigureAwait(false);
        await _store.DeleteAsync(ChannelSummaryName(utteranceName), cancellationToken).ConfigureAwait(false);
    }

    private async Task RemoveOtherVersionsAsync(RecordingRef recording, RecordingKey key, CancellationToken cancellationToken)
    {
        var versions = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var ledger in new[] { "outputs", "done", "failed" })
        {
            await foreach (var name in _store.ListAsync($"{DatasetLayout.State}/{ledger}/{key.IdHash}/", cancellationToken).ConfigureAwait(false))
            {
                if (name.EndsWith(".json", StringComparison.Ordinal))
                {
                    versions.Add(Path.GetFileNameWithoutExtension(name));
                }
            }
        }
        versions.Remove(key.VersionHash);

        foreach (var version in versions)
        {
            var old = key with { VersionHash = version };
            var announced = LedgerJson.Deserialize<OutputRecord>(await _store.TryGetAsync(OutputsName(old), cancellationToken).ConfigureAwait(false));
            var done = LedgerJson.Deserialize<DoneRecord>(await _store.TryGetAsync(DoneName(old), cancellationToken).ConfigureAwait(false));
            foreach (var file in new[] { announced?.Output, done?.Output }.OfType<string>().Distinct())
            {
                if (IsOwnUtteranceFile(file, old))
                {
                    await DeleteOutputAsync(file, cancellationToken).ConfigureAwait(false);
                }
            }
            await _store.DeleteAsync(OutputsName(old), cancellationToken).ConfigureAwait(false);
            await _store.DeleteAsync(FailedName(old), cancellationToken).ConfigureAwait(false);
            await _store.DeleteAsync(DoneName(old), cancellationToken).ConfigureAwait(false);
            StorageLog.RemovedOldVersion(_logger, recording.Id, version, done?.Output ?? announced?.Output ?? "(no rows)");
        }
    }

    // Ledger files are ours, but a hand-edited one must not make us delete something else.
    private static bool IsOwnUtteranceFile(string name, RecordingKey key) =>
        name.StartsWith(DatasetLayout.Utterances + "/", StringComparison.Ordinal) && name.EndsWith($"/{key}.parquet", StringComparison.Ordinal);

    private async Task PutParquetAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await write(buffer, cancellationToken).ConfigureAwait(false);
        buffer.Position = 0;
        await _store.PutAtomicAsync(name, buffer, cancellationToken).ConfigureAwait(false);
    }

    private Task PutJsonAsync<T>(string name, T record, CancellationToken cancellationToken) =>
        _store.PutAtomicAsync(name, LedgerJson.Serialize(record), cancellationToken);

    internal static string UtteranceName(RecordingRef recording) => DatasetLayout.UtteranceFile(recording);

    internal static string SummaryName(string utteranceName) => DatasetLayout.BesideUtterances(utteranceName, DatasetLayout.Summaries);

    internal static string ChannelSummaryName(string utteranceName) => DatasetLayout.BesideUtterances(utteranceName, DatasetLayout.ChannelSummaries);

    internal static string DoneName(RecordingKey key) => $"{DatasetLayout.State}/done/{key.IdHash}/{key.VersionHash}.json";

    internal static string FailedName(RecordingKey key) => $"{DatasetLayout.State}/failed/{key.IdHash}/{key.VersionHash}.json";

    internal static string OutputsName(RecordingKey key) => $"{DatasetLayout.State}/outputs/{key.IdHash}/{key.VersionHash}.json";

    /// <summary>Keeps credentials out of the datasets even if a caller passes a SAS URI or an exception message quoting one.</summary>
    internal static partial class Redact
    {
        public static string Uri(string value) =>
            System.Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Query.Length > 0 || uri.UserInfo.Length > 0)
                ? BlobNames.WithoutQuery(uri)!.ToString()
                : Secrets(value);

        public static string Secrets(string value) => SecretPattern().Replace(value, "$1=REDACTED");

        [GeneratedRegex("(?i)\\b(sig|AccountKey|SharedAccessSignature|password|pwd)=[^;&\\s\"']+")]
        private static partial Regex SecretPattern();
    }
}

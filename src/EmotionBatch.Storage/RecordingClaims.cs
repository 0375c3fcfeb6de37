using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using EmotionBatch.Core;
using EmotionBatch.Datasets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EmotionBatch.Storage;

/// <summary>
/// Claims as blob leases on <c>_state/claims/&lt;IdHash&gt;</c> in the output container (docs/reliability.md).
/// A lease lasts <see cref="OutputOptions.LeaseDuration"/> and is renewed every third of it; a worker that dies
/// simply stops renewing, and the service frees the claim when the lease runs out.
/// </summary>
public sealed class BlobLeaseClaims : IRecordingClaims
{
    private readonly BlobContainerClient _container;
    private readonly string _prefix;
    private readonly TimeSpan _duration;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _containerChecked;

    public BlobLeaseClaims(BlobContainerClient container, string? prefix, TimeSpan leaseDuration, TimeProvider? timeProvider = null, ILogger<BlobLeaseClaims>? logger = null)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        if (leaseDuration < TimeSpan.FromSeconds(15) || leaseDuration > TimeSpan.FromSeconds(60))
        {
            throw new ArgumentOutOfRangeException(nameof(leaseDuration), leaseDuration, "Blob leases last 15 to 60 seconds.");
        }
        _prefix = string.IsNullOrWhiteSpace(prefix) ? string.Empty : prefix.Trim('/') + "/";
        _duration = leaseDuration;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<BlobLeaseClaims>.Instance;
    }

    public async Task<IRecordingClaim?> TryClaimAsync(RecordingRef recording, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var blob = _container.GetBlobClient($"{_prefix}{DatasetLayout.Claims}/{recording.Key.IdHash}");
        var lease = blob.GetBlobLeaseClient();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var acquired = _time.GetTimestamp();
                await lease.AcquireAsync(_duration, cancellationToken: cancellationToken).ConfigureAwait(false);
                StorageLog.Claimed(_logger, recording.Id, _duration.TotalSeconds);
                return new LeaseClaim(lease, recording.Id, _duration, acquired, _time, _logger);
            }
            catch (RequestFailedException ex) when (ex.Status == 409 && ex.ErrorCode == BlobErrorCode.LeaseAlreadyPresent)
            {
                // The batch runner logs the skip: one event, whatever kind of claim.
                return null;
            }
            catch (RequestFailedException ex) when (ex.Status == 404 && attempt == 0)
            {
                // First claim on this recording: create the empty claim blob, then lease it.
                await CreateClaimBlobAsync(blob, ex.ErrorCode == BlobErrorCode.ContainerNotFound, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task CreateClaimBlobAsync(BlobClient blob, bool containerMissing, CancellationToken cancellationToken)
    {
        if (containerMissing || Volatile.Read(ref _containerChecked) == 0)
        {
            try
            {
                await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 403)
            {
                // Allowed to write blobs but not to create containers: the container must already exist.
            }
            Volatile.Write(ref _containerChecked, 1);
        }
        try
        {
            // Never overwrite: another worker may have created and leased it a moment ago.
            var options = new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } };
            await blob.UploadAsync(BinaryData.Empty, options, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Created (and possibly leased) by another worker; acquiring decides who gets it.
        }
    }

    private sealed class LeaseClaim : IRecordingClaim
    {
        private readonly BlobLeaseClient _lease;
        private readonly string _recordingId;
        private readonly TimeSpan _duration;
        private readonly TimeProvider _time;
        private readonly ILogger _logger;
        private readonly CancellationTokenSource _lost = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _renewal;
        private long _validUntil;

        public LeaseClaim(BlobLeaseClient lease, string recordingId, TimeSpan duration, long acquiredAt, TimeProvider time, ILogger logger)
        {
            _lease = lease;
            _recordingId = recordingId;
            _duration = duration;
            _time = time;
            _logger = logger;
            // Counted from before the acquire request was sent, so local clocks can only err on the safe side.
            _validUntil = acquiredAt + ToTimestamp(duration);
            _renewal = Task.Run(RenewAsync);
        }

        public CancellationToken Lost => _lost.Token;

        private async Task RenewAsync()
        {
            var interval = _duration / 3;
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(interval, _time, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                // The SDK retries a failing renewal on its own; it may keep trying only while the lease is still ours.
                var remaining = _time.GetElapsedTime(_time.GetTimestamp(), Volatile.Read(ref _validUntil));
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                deadline.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
                var sent = _time.GetTimestamp();
                try
                {
                    await _lease.RenewAsync(cancellationToken: deadline.Token).ConfigureAwait(false);
                    Volatile.Write(ref _validUntil, sent + ToTimestamp(_duration));
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    // Whatever the cause, the lease can no longer be vouched for.
                    StorageLog.ClaimLost(_logger, _recordingId, (ex as RequestFailedException)?.ErrorCode ?? ex.GetType().Name);
                    await _lost.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _renewal.ConfigureAwait(false);
            if (!_lost.IsCancellationRequested)
            {
                try
                {
                    // Releasing lets the next worker start at once instead of waiting for expiry.
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await _lease.ReleaseAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RequestFailedException or OperationCanceledException)
                {
                    // The lease expires by itself.
                }
            }
            _lost.Dispose();
            _stop.Dispose();
        }

        private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
    }
}

/// <summary>
/// Claims for a local output folder: an exclusive OS lock on <c>_state/claims/&lt;IdHash&gt;.lock</c>, which the
/// operating system drops when the holding process dies, however it dies. Lock files stay in place: deleting one
/// while another process waits on it would let two processes hold "the" lock.
/// </summary>
public sealed class FileLockClaims : IRecordingClaims
{
    private readonly string _folder;

    public FileLockClaims(string outputRoot)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputRoot);
        _folder = Path.Combine(Path.GetFullPath(outputRoot), DatasetLayout.Claims);
    }

    public Task<IRecordingClaim?> TryClaimAsync(RecordingRef recording, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        Directory.CreateDirectory(_folder);
        var path = Path.Combine(_folder, recording.Key.IdHash + ".lock");
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            return Task.FromResult<IRecordingClaim?>(new FileClaim(stream));
        }
        catch (IOException)
        {
            // Held by another process (or another recording slot of this one).
            return Task.FromResult<IRecordingClaim?>(null);
        }
    }

    private sealed class FileClaim(FileStream stream) : IRecordingClaim
    {
        public CancellationToken Lost => CancellationToken.None;

        public ValueTask DisposeAsync() => stream.DisposeAsync();
    }
}

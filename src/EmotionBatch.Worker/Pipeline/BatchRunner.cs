using EmotionBatch.Core;
using EmotionBatch.Worker.Hosting;
using EmotionBatch.Worker.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Worker.Pipeline;

/// <summary>Summary of one pass over the source.</summary>
public sealed record PassSummary(int Listed, int Completed, int Failed, int Skipped, int Utterances, double AudioSeconds, TimeSpan Elapsed,
    int NoSpeech = 0, int FailedEarlier = 0);

/// <summary>
/// One pass over the source: lists recordings, skips what is done (or failed and still backing off), and processes
/// the rest with bounded concurrency. A recording that fails never stops the pass. Each recording is processed under
/// a claim in the output store, so workers sharing a container never work on the same recording at once.
/// </summary>
public sealed partial class BatchRunner(
    IRecordingSource source,
    IResultStore store,
    IRecordingClaims claims,
    IRecordingProcessor pipeline,
    IOptions<WorkerOptions> options,
    TimeProvider clock,
    PipelineTelemetry telemetry,
    ILogger<BatchRunner> logger) : IPassRunner
{
    private readonly WorkerOptions _options = options.Value;
    private readonly ILogger<BatchRunner> _logger = logger;

    /// <param name="progress">Receives each outcome as it happens (the CLI's progress display).</param>
    public async Task<PassSummary> RunPassAsync(IProgress<RecordingOutcome>? progress, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        int listed = 0, completed = 0, failed = 0, noSpeech = 0, skipped = 0, failedEarlier = 0, utterances = 0;
        double audioSeconds = 0;
        var gate = new object();

        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = _options.MaxConcurrentRecordings,
            CancellationToken = cancellationToken,
        };

        await Parallel.ForEachAsync(source.ListAsync(cancellationToken), parallel, async (recording, token) =>
        {
            Interlocked.Increment(ref listed);
            telemetry.QueueChanged(1);
            RecordingOutcome outcome;
            try
            {
                outcome = await ProcessIfDueAsync(recording, token).ConfigureAwait(false);
            }
            finally
            {
                telemetry.QueueChanged(-1);
            }
            lock (gate)
            {
                switch (outcome.Kind)
                {
                    case OutcomeKind.Completed:
                        completed++;
                        utterances += outcome.Utterances;
                        audioSeconds += outcome.AudioSeconds;
                        break;
                    case OutcomeKind.Failed:
                        failed++;
                        break;
                    case OutcomeKind.NoSpeech:
                        noSpeech++;
                        break;
                    case OutcomeKind.FailedEarlier:
                        failedEarlier++;
                        break;
                    default:
                        skipped++;
                        break;
                }
            }
            progress?.Report(outcome);
        }).ConfigureAwait(false);

        var summary = new PassSummary(listed, completed, failed, skipped, utterances, audioSeconds, clock.GetElapsedTime(started), noSpeech, failedEarlier);
        LogPass(source.Description, summary.Listed, summary.Completed, summary.Failed, summary.Skipped, summary.NoSpeech, summary.FailedEarlier, summary.Utterances, summary.Elapsed.TotalSeconds);
        return summary;
    }

    private async Task<RecordingOutcome> ProcessIfDueAsync(RecordingRef recording, CancellationToken cancellationToken)
    {
        var skipped = new RecordingOutcome(recording, OutcomeKind.Skipped, 0, 0, TimeSpan.Zero);
        var first = await store.GetStateAsync(recording, cancellationToken).ConfigureAwait(false);
        if (first.Status == RecordingStatus.FailedPermanently)
        {
            return skipped with { Kind = OutcomeKind.FailedEarlier };
        }
        if (!RetryPolicy.IsDue(first, clock.GetUtcNow()))
        {
            return skipped;
        }

        var claim = await claims.TryClaimAsync(recording, cancellationToken).ConfigureAwait(false);
        if (claim is null)
        {
            LogClaimedElsewhere(recording.Id);
            return skipped;
        }
        await using (claim.ConfigureAwait(false))
        {
            // Another worker may have finished it between our first look and the claim.
            var state = await store.GetStateAsync(recording, cancellationToken).ConfigureAwait(false);
            if (!RetryPolicy.IsDue(state, clock.GetUtcNow()))
            {
                return skipped;
            }

            // A lost claim stops the work before its commit; the next holder redoes it from scratch.
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, claim.Lost);
            try
            {
                return await pipeline.ProcessAsync(recording, state.Attempts + 1, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (claim.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The claim logged the loss with its reason; the pass moves on.
                return skipped;
            }
        }
    }

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Skipping {RecordingId} this pass: another worker holds its claim")]
    private partial void LogClaimedElsewhere(string recordingId);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Pass over {Source}: {Listed} listed, {Completed} completed, {Failed} failed, {Skipped} skipped, {NoSpeech} without speech, {FailedEarlier} failed in an earlier pass, {Utterances} utterances in {ElapsedSeconds:F1} s")]
    private partial void LogPass(string source, int listed, int completed, int failed, int skipped, int noSpeech, int failedEarlier, int utterances, double elapsedSeconds);
}

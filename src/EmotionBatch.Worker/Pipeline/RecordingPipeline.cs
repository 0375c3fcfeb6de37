using System.Diagnostics;
using EmotionBatch.Audio;
using EmotionBatch.Core;
using EmotionBatch.Worker.Hosting;
using EmotionBatch.Worker.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Worker.Pipeline;

/// <summary>
/// Turns one recording into committed rows: checks its limits, fetches it, opens it (the decoder describes the
/// recording), hands the utterance work to <see cref="IUtteranceAnalyser"/>, and commits the rows or records why it failed.
/// </summary>
public sealed partial class RecordingPipeline(
    IRecordingSource source,
    IAudioDecoder decoder,
    IUtteranceAnalyser analyser,
    IResultStore store,
    IOptions<WorkerOptions> options,
    IOptions<VadOptions> vadOptions,
    TimeProvider clock,
    PipelineTelemetry telemetry,
    ILogger<RecordingPipeline> logger) : IRecordingProcessor
{
    private readonly WorkerOptions _options = options.Value;
    private readonly VadOptions _vad = vadOptions.Value;
    private readonly ILogger<RecordingPipeline> _logger = logger;

    /// <summary>
    /// Processes one recording and commits its rows, or records why it failed. Only cancellation escapes: a recording
    /// abandoned that way has committed nothing and is processed again by the next pass.
    /// </summary>
    public async Task<RecordingOutcome> ProcessAsync(RecordingRef recording, int attempt, CancellationToken cancellationToken)
    {
        using var activity = PipelineTelemetry.Tracing.StartActivity("ProcessRecording");
        activity?.SetTag("emotionbatch.recording.id", recording.Id);
        activity?.SetTag("emotionbatch.recording.attempt", attempt);
        var stopwatch = Stopwatch.StartNew();
        var audioSeconds = 0d;
        try
        {
            if (recording.SizeBytes > _options.MaxFileSizeBytes)
            {
                throw new RecordingFailedException(PipelineStage.Fetch,
                    $"file is {recording.SizeBytes:N0} bytes, over the limit of {_options.MaxFileSizeBytes:N0} (EmotionBatch:Worker:MaxFileSizeBytes)");
            }
            if (recording.SizeBytes == 0)
            {
                throw new RecordingFailedException(PipelineStage.Fetch, "file is empty (0 bytes)");
            }

            Directory.CreateDirectory(_options.WorkFolder);
            var stage = Stopwatch.StartNew();
            await using var local = await FetchAsync(recording, cancellationToken).ConfigureAwait(false);
            telemetry.StageFinished(PipelineStage.Fetch, stage.Elapsed);

            stage.Restart();
            await using var audio = await decoder.OpenAsync(local.Path, cancellationToken).ConfigureAwait(false);
            telemetry.StageFinished(PipelineStage.Probe, stage.Elapsed);
            var info = audio.Info;
            audioSeconds = info.DurationSeconds;

            var rows = await analyser.AnalyseAsync(recording, audio, VadPass.Primary, cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0 && _vad.HasFallback)
            {
                // The stream is spent; the second pass decodes the local copy again (only recordings without speech pay).
                await using var again = await decoder.OpenAsync(local.Path, cancellationToken).ConfigureAwait(false);
                rows = await analyser.AnalyseAsync(recording, again, VadPass.Fallback, cancellationToken).ConfigureAwait(false);
                telemetry.VadFallback(rows.Count > 0);
                LogVadFallback(recording.Id, _vad.Threshold, _vad.FallbackThreshold, rows.Count);
            }
            if (rows.Count == 0)
            {
                var thresholds = _vad.HasFallback ? $"at VAD thresholds {_vad.Threshold} and {_vad.FallbackThreshold}" : $"at VAD threshold {_vad.Threshold}";
                var silent = await RecordFailureAsync(recording, attempt, PipelineStage.Segment, $"no speech detected in {info.DurationSeconds:F1} s of audio {thresholds}",
                    retryable: false, audioSeconds, stopwatch, cancellationToken).ConfigureAwait(false);
                return silent with { Kind = OutcomeKind.NoSpeech };
            }

            stage.Restart();
            await store.CommitAsync(recording, rows, info.DurationSeconds, cancellationToken).ConfigureAwait(false);
            telemetry.StageFinished(PipelineStage.Commit, stage.Elapsed);
            telemetry.RecordingCompleted(rows.Count, audioSeconds, stopwatch.Elapsed);
            activity?.SetTag("emotionbatch.utterances", rows.Count);
            LogCompleted(recording.Id, rows.Count, audioSeconds, stopwatch.Elapsed.TotalSeconds);
            return new RecordingOutcome(recording, OutcomeKind.Completed, rows.Count, audioSeconds, stopwatch.Elapsed);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogAbandoned(recording.Id);
            throw;
        }
        catch (RecordingFailedException failure)
        {
            return await RecordFailureAsync(recording, attempt, failure.Stage, failure.Reason, failure.Retryable, audioSeconds, stopwatch, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception unexpected)
        {
            // Unknown faults (storage hiccups, model errors) may pass; they get the bounded retries.
            LogUnexpected(unexpected, recording.Id);
            return await RecordFailureAsync(recording, attempt, PipelineStage.Unexpected, $"{unexpected.GetType().Name}: {unexpected.Message}", true, audioSeconds, stopwatch, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private async Task<LocalRecording> FetchAsync(RecordingRef recording, CancellationToken cancellationToken)
    {
        try
        {
            return await source.FetchAsync(recording, _options.WorkFolder, cancellationToken).ConfigureAwait(false);
        }
        // A timeout inside the storage client is a failed fetch too; only our own cancellation escapes.
        catch (Exception ex) when (ex is not RecordingFailedException && !cancellationToken.IsCancellationRequested)
        {
            throw new RecordingFailedException(PipelineStage.Fetch, $"could not fetch the recording: {ex.Message}", ex) { Retryable = true };
        }
    }

    private async Task<RecordingOutcome> RecordFailureAsync(
        RecordingRef recording, int attempt, string stage, string reason, bool retryable, double audioSeconds, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        LogFailed(recording.Id, stage, reason, attempt);
        telemetry.RecordingFailed(stage);
        Activity.Current?.SetStatus(ActivityStatusCode.Error, $"{stage}: {reason}");
        var failure = new FailureRow(
            recording.Id,
            recording.Uri.ToString(),
            recording.ETag,
            stage,
            reason,
            attempt,
            WillRetry: retryable,
            clock.GetUtcNow().UtcDateTime);
        await store.RecordFailureAsync(recording, failure, cancellationToken).ConfigureAwait(false);
        return new RecordingOutcome(recording, OutcomeKind.Failed, 0, audioSeconds, stopwatch.Elapsed, $"{stage}: {reason}");
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Completed {RecordingId}: {Utterances} utterances from {AudioSeconds:F1} s of audio in {ElapsedSeconds:F1} s")]
    private partial void LogCompleted(string recordingId, int utterances, double audioSeconds, double elapsedSeconds);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Failed {RecordingId} at {Stage} (attempt {Attempt}): {Reason}")]
    private partial void LogFailed(string recordingId, string stage, string reason, int attempt);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Unexpected error while processing {RecordingId}")]
    private partial void LogUnexpected(Exception exception, string recordingId);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "No speech in {RecordingId} at VAD threshold {Threshold}; heard again at {FallbackThreshold}: {Utterances} utterances")]
    private partial void LogVadFallback(string recordingId, float threshold, float fallbackThreshold, int utterances);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Abandoned {RecordingId} on shutdown; nothing was committed and the next pass processes it again")]
    private partial void LogAbandoned(string recordingId);
}

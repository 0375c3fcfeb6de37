using System.Diagnostics;
using System.Threading.Channels;
using EmotionBatch.Audio;
using EmotionBatch.Core;
using EmotionBatch.Inference;
using EmotionBatch.Worker.Hosting;
using EmotionBatch.Worker.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Worker.Pipeline;

/// <summary>
/// Turns one recording into committed rows: fetch, open (the decoder describes the recording), decode + segment
/// (streamed), transcribe, infer in batches, commit. Decoding and segmentation run concurrently with transcription and
/// inference through a bounded channel, so a multi-hour recording never sits in memory and the stages overlap.
/// </summary>
public sealed partial class RecordingPipeline : IRecordingProcessor
{
    private readonly IRecordingSource _source;
    private readonly IAudioDecoder _decoder;
    private readonly ChannelSegmenter _segmenter;
    private readonly ITranscriber _transcriber;
    private readonly IEmotionModel _model;
    private readonly IResultStore _store;
    private readonly WorkerOptions _options;
    private readonly TimeProvider _clock;
    private readonly PipelineTelemetry _telemetry;
    private readonly ILogger<RecordingPipeline> _logger;

    public RecordingPipeline(
        IRecordingSource source,
        IAudioDecoder decoder,
        ChannelSegmenter segmenter,
        ITranscriber transcriber,
        IEmotionModel model,
        IResultStore store,
        IOptions<WorkerOptions> options,
        TimeProvider clock,
        PipelineTelemetry telemetry,
        ILogger<RecordingPipeline> logger)
    {
        _source = source;
        _decoder = decoder;
        _segmenter = segmenter;
        _transcriber = transcriber;
        _model = model;
        _store = store;
        _options = options.Value;
        _clock = clock;
        _telemetry = telemetry;
        _logger = logger;
    }

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
            _telemetry.StageFinished(PipelineStage.Fetch, stage.Elapsed);

            stage.Restart();
            await using var audio = await _decoder.OpenAsync(local.Path, cancellationToken).ConfigureAwait(false);
            _telemetry.StageFinished(PipelineStage.Probe, stage.Elapsed);
            var info = audio.Info;
            audioSeconds = info.DurationSeconds;

            var rows = await AnalyseAsync(recording, audio, cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                var silent = await RecordFailureAsync(recording, attempt, "segment", $"no speech detected in {info.DurationSeconds:F1} s of audio",
                    retryable: false, audioSeconds, stopwatch, cancellationToken).ConfigureAwait(false);
                return silent with { Kind = OutcomeKind.NoSpeech };
            }

            stage.Restart();
            await _store.CommitAsync(recording, rows, info.DurationSeconds, cancellationToken).ConfigureAwait(false);
            _telemetry.StageFinished(PipelineStage.Commit, stage.Elapsed);
            _telemetry.RecordingCompleted(rows.Count, audioSeconds, stopwatch.Elapsed);
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
            return await RecordFailureAsync(recording, attempt, "unexpected", $"{unexpected.GetType().Name}: {unexpected.Message}", true, audioSeconds, stopwatch, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private async Task<LocalRecording> FetchAsync(RecordingRef recording, CancellationToken cancellationToken)
    {
        try
        {
            return await _source.FetchAsync(recording, _options.WorkFolder, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RecordingFailedException and not OperationCanceledException)
        {
            throw new RecordingFailedException(PipelineStage.Fetch, $"could not fetch the recording: {ex.Message}", ex) { Retryable = true };
        }
    }

    private async Task<List<UtteranceRow>> AnalyseAsync(RecordingRef recording, DecodingAudio audio, CancellationToken cancellationToken)
    {
        var batchSize = Math.Max(1, _model.PreferredBatchSize);
        var utterances = Channel.CreateBounded<Utterance>(new BoundedChannelOptions(batchSize * 2)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = ProduceUtterancesAsync(audio, utterances.Writer, linked.Token);

        var rows = new List<UtteranceRow>();
        var windowSize = LengthBatching.WindowSize(batchSize);
        var window = new List<(Utterance Utterance, Transcript? Transcript)>(windowSize);
        // Utterances wait per channel until a recognition window's worth of speech has gathered (PackSeconds).
        var packs = new SortedDictionary<int, List<Utterance>>();
        try
        {
            await foreach (var utterance in utterances.Reader.ReadAllAsync(linked.Token).ConfigureAwait(false))
            {
                if (!_transcriber.IsEnabled)
                {
                    await AddAsync([(utterance, null)]).ConfigureAwait(false);
                    continue;
                }
                var channel = utterance.Channel ?? 0;
                if (!packs.TryGetValue(channel, out var pack))
                {
                    packs[channel] = pack = [];
                }
                if (pack.Count > 0 && !Transcription.PackedWindows.Fits(pack, utterance, _transcriber.PackSeconds))
                {
                    await AddAsync(await TranscribeAsync(pack, linked.Token).ConfigureAwait(false)).ConfigureAwait(false);
                    pack.Clear();
                }
                pack.Add(utterance);
            }
            foreach (var pack in packs.Values.Where(pack => pack.Count > 0))
            {
                await AddAsync(await TranscribeAsync(pack, linked.Token).ConfigureAwait(false)).ConfigureAwait(false);
            }
            if (window.Count > 0)
            {
                await InferWindowAsync(recording, window, batchSize, rows, linked.Token).ConfigureAwait(false);
            }
        }
        catch
        {
            // Stop the decoder (and its ffmpeg process) before reporting the failure.
            await linked.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(producer).ConfigureAwait(false);
            throw;
        }
        await producer.ConfigureAwait(false);
        // Channels' utterances arrive interleaved; the recording's rows are one timeline, numbered once.
        return ConversationTimeline.Arrange(rows);

        async Task AddAsync(IEnumerable<(Utterance, Transcript?)> transcribed)
        {
            foreach (var item in transcribed)
            {
                window.Add(item);
                if (window.Count == windowSize)
                {
                    await InferWindowAsync(recording, window, batchSize, rows, linked.Token).ConfigureAwait(false);
                    window.Clear();
                }
            }
        }
    }


    private async Task ProduceUtterancesAsync(DecodingAudio audio, ChannelWriter<Utterance> writer, CancellationToken cancellationToken)
    {
        // Run on the thread pool so decoding overlaps with inference from the first chunk on.
        await Task.Yield();
        var stage = Stopwatch.StartNew();
        try
        {
            var pcm = audio.ReadAsync(cancellationToken);
            await foreach (var utterance in _segmenter.SegmentAsync(pcm, cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync(utterance, cancellationToken).ConfigureAwait(false);
            }
            writer.Complete();
            _telemetry.StageFinished(PipelineStage.DecodeSegment, stage.Elapsed);
        }
        catch (Exception ex)
        {
            writer.Complete(ex);
            throw;
        }
    }

    private async Task<IEnumerable<(Utterance, Transcript?)>> TranscribeAsync(List<Utterance> pack, CancellationToken cancellationToken)
    {
        var stage = Stopwatch.StartNew();
        try
        {
            var transcripts = await _transcriber.TranscribeAsync(pack, cancellationToken).ConfigureAwait(false);
            _telemetry.StageFinished(PipelineStage.Transcribe, stage.Elapsed);
            return pack.Zip(transcripts).ToList();
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not RecordingFailedException)
        {
            throw new RecordingFailedException(PipelineStage.Transcribe,
                $"speech recognition failed on utterances {pack[0].Index}-{pack[^1].Index} of channel {pack[0].Channel ?? 0}: {ex.Message}", ex) { Retryable = true };
        }
    }

    /// <summary>Infers a window in <see cref="LengthBatching"/>'s batches.</summary>
    private async Task InferWindowAsync(
        RecordingRef recording, List<(Utterance Utterance, Transcript? Transcript)> window, int batchSize, List<UtteranceRow> rows, CancellationToken cancellationToken)
    {
        foreach (var batch in LengthBatching.Batches(window.ConvertAll(w => w.Utterance.Samples.Length), batchSize))
        {
            await InferAsync(recording, batch.Select(i => window[i]).ToList(), rows, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task InferAsync(RecordingRef recording, List<(Utterance Utterance, Transcript? Transcript)> batch, List<UtteranceRow> rows, CancellationToken cancellationToken)
    {
        var inputs = new EmotionInput[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            inputs[i] = new EmotionInput(batch[i].Utterance.Samples, batch[i].Transcript?.Text);
        }

        IReadOnlyList<EmotionPrediction> predictions;
        var stage = Stopwatch.StartNew();
        try
        {
            predictions = await _model.PredictAsync(inputs, cancellationToken).ConfigureAwait(false);
            _telemetry.StageFinished(PipelineStage.Infer, stage.Elapsed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not RecordingFailedException)
        {
            throw new RecordingFailedException(PipelineStage.Infer, $"emotion model failed: {ex.Message}", ex) { Retryable = true };
        }

        var processedAt = _clock.GetUtcNow().UtcDateTime;
        var bundle = _model.Bundle;
        for (var i = 0; i < batch.Count; i++)
        {
            var (utterance, transcript) = batch[i];
            var prediction = predictions[i];
            var text = string.IsNullOrWhiteSpace(transcript?.Text) ? null : transcript!.Text.Trim();
            rows.Add(new UtteranceRow(
                recording.Id,
                recording.Uri.ToString(),
                recording.ETag,
                utterance.Index,
                utterance.StartSeconds,
                utterance.EndSeconds,
                text,
                text is null ? null : transcript!.Language,
                prediction.Label,
                prediction.ProbabilityAngry,
                prediction.ProbabilityHappy,
                prediction.ProbabilitySad,
                prediction.ProbabilityNeutral,
                prediction.Valence,
                prediction.Arousal,
                TextUsed: text is not null,
                bundle.Name,
                bundle.Version,
                processedAt)
            {
                Channel = utterance.Channel ?? 0,
                SpeakerRole = _segmenter.RoleOf(utterance.Channel),
            });
        }
    }

    private async Task<RecordingOutcome> RecordFailureAsync(
        RecordingRef recording, int attempt, string stage, string reason, bool retryable, double audioSeconds, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        LogFailed(recording.Id, stage, reason, attempt);
        _telemetry.RecordingFailed(stage);
        Activity.Current?.SetStatus(ActivityStatusCode.Error, $"{stage}: {reason}");
        var failure = new FailureRow(
            recording.Id,
            recording.Uri.ToString(),
            recording.ETag,
            stage,
            reason,
            attempt,
            WillRetry: retryable,
            _clock.GetUtcNow().UtcDateTime);
        await _store.RecordFailureAsync(recording, failure, cancellationToken).ConfigureAwait(false);
        return new RecordingOutcome(recording, OutcomeKind.Failed, 0, audioSeconds, stopwatch.Elapsed, $"{stage}: {reason}");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Completed {RecordingId}: {Utterances} utterances from {AudioSeconds:F1} s of audio in {ElapsedSeconds:F1} s")]
    private partial void LogCompleted(string recordingId, int utterances, double audioSeconds, double elapsedSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed {RecordingId} at {Stage} (attempt {Attempt}): {Reason}")]
    private partial void LogFailed(string recordingId, string stage, string reason, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error while processing {RecordingId}")]
    private partial void LogUnexpected(Exception exception, string recordingId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Abandoned {RecordingId} on shutdown; nothing was committed and the next pass processes it again")]
    private partial void LogAbandoned(string recordingId);
}

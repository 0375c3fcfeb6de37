using System.Diagnostics;
using System.Threading.Channels;
using EmotionBatch.Audio;
using EmotionBatch.Core;
using EmotionBatch.Transcription;
using EmotionBatch.Worker.Observability;

namespace EmotionBatch.Worker.Pipeline;

/// <summary>The utterance work of one recording: from decoded audio to its rows, in time order.</summary>
public interface IUtteranceAnalyser
{
    /// <summary>The rows of every utterance heard in <paramref name="audio"/> by the VAD's <paramref name="pass"/>; empty when there is no speech.</summary>
    /// <exception cref="RecordingFailedException">A stage failed; the exception names it.</exception>
    Task<IReadOnlyList<UtteranceRow>> AnalyseAsync(RecordingRef recording, DecodingAudio audio, VadPass pass, CancellationToken cancellationToken);
}

/// <summary>
/// Decode + segment (per channel, streamed), transcribe (packed per channel), infer (windows of utterances, batched by
/// the model), one row per utterance. Decoding and segmentation run concurrently with transcription and inference
/// through a bounded channel, so a multi-hour recording never sits in memory and the stages overlap.
/// </summary>
public sealed class UtteranceAnalyser(
    ChannelSegmenter segmenter, ITranscriber transcriber, IEmotionModel model, TimeProvider clock, PipelineTelemetry telemetry) : IUtteranceAnalyser
{
    public async Task<IReadOnlyList<UtteranceRow>> AnalyseAsync(RecordingRef recording, DecodingAudio audio, VadPass pass, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        ArgumentNullException.ThrowIfNull(audio);
        var windowSize = Math.Max(1, model.PreferredCallSize);
        // Decoding runs at most two batches ahead: memory stays bounded by the window being gathered, not the recording.
        var utterances = Channel.CreateBounded<Utterance>(new BoundedChannelOptions(Math.Max(1, model.PreferredBatchSize) * 2)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = ProduceUtterancesAsync(audio, pass, utterances.Writer, linked.Token);

        var rows = new List<UtteranceRow>();
        var window = new List<(Utterance Utterance, Transcript? Transcript)>(windowSize);
        // Utterances wait per channel until a recognition window's worth of speech has gathered (PackSeconds).
        var packs = new SortedDictionary<int, List<Utterance>>();
        try
        {
            await foreach (var utterance in utterances.Reader.ReadAllAsync(linked.Token).ConfigureAwait(false))
            {
                if (!transcriber.IsEnabled)
                {
                    await AddAsync([(utterance, null)]).ConfigureAwait(false);
                    continue;
                }
                var channel = utterance.Channel ?? 0;
                if (!packs.TryGetValue(channel, out var pack))
                {
                    packs[channel] = pack = [];
                }
                if (pack.Count > 0 && !PackedWindows.Fits(pack, utterance, transcriber.PackSeconds))
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
                await InferAsync(recording, window, rows, linked.Token).ConfigureAwait(false);
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
                    await InferAsync(recording, window, rows, linked.Token).ConfigureAwait(false);
                    window.Clear();
                }
            }
        }
    }

    private async Task ProduceUtterancesAsync(DecodingAudio audio, VadPass pass, ChannelWriter<Utterance> writer, CancellationToken cancellationToken)
    {
        // Run on the thread pool so decoding overlaps with inference from the first chunk on.
        await Task.Yield();
        var stage = Stopwatch.StartNew();
        try
        {
            var pcm = audio.ReadAsync(cancellationToken);
            await foreach (var utterance in segmenter.SegmentAsync(pcm, pass, cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync(utterance, cancellationToken).ConfigureAwait(false);
            }
            writer.Complete();
            telemetry.StageFinished(PipelineStage.DecodeSegment, stage.Elapsed);
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
            var transcripts = await transcriber.TranscribeAsync(pack, cancellationToken).ConfigureAwait(false);
            if (transcripts.Count != pack.Count)
            {
                // Pairing by position would drop or shift rows.
                throw new InvalidOperationException($"the recogniser returned {transcripts.Count} transcripts for {pack.Count} utterances");
            }
            telemetry.StageFinished(PipelineStage.Transcribe, stage.Elapsed);
            return pack.Zip(transcripts).ToList();
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not RecordingFailedException)
        {
            throw new RecordingFailedException(PipelineStage.Transcribe,
                $"speech recognition failed on utterances {pack[0].Index}-{pack[^1].Index} of channel {pack[0].Channel ?? 0}: {ex.Message}", ex) { Retryable = true };
        }
    }

    /// <summary>One window of utterances through the model (which batches it by length), one row each.</summary>
    private async Task InferAsync(RecordingRef recording, List<(Utterance Utterance, Transcript? Transcript)> window, List<UtteranceRow> rows, CancellationToken cancellationToken)
    {
        var inputs = window.ConvertAll(item => new EmotionInput(item.Utterance.Samples, item.Transcript?.Text));
        IReadOnlyList<EmotionPrediction> predictions;
        var stage = Stopwatch.StartNew();
        try
        {
            predictions = await model.PredictAsync(inputs, cancellationToken).ConfigureAwait(false);
            if (predictions.Count != inputs.Count)
            {
                throw new InvalidOperationException($"the model returned {predictions.Count} predictions for {inputs.Count} utterances");
            }
            telemetry.StageFinished(PipelineStage.Infer, stage.Elapsed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not RecordingFailedException)
        {
            throw new RecordingFailedException(PipelineStage.Infer, $"emotion model failed: {ex.Message}", ex) { Retryable = true };
        }

        var processedAt = clock.GetUtcNow().UtcDateTime;
        for (var i = 0; i < window.Count; i++)
        {
            var (utterance, transcript) = window[i];
            rows.Add(UtteranceRows.Create(recording, utterance, transcript, predictions[i], model.Bundle, processedAt, segmenter.RoleOf(utterance.Channel)));
        }
    }
}

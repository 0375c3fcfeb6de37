using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EmotionBatch.Worker.Observability;

/// <summary>
/// Metrics and traces of the pipeline, under the names "EmotionBatch" (meter and activity source). Exported by
/// OpenTelemetry when configured; free when nothing listens.
/// </summary>
public sealed class PipelineTelemetry : IDisposable
{
    public const string Name = "EmotionBatch";

    private readonly Meter _meter;
    private readonly Counter<long> _recordingsProcessed;
    private readonly Counter<long> _recordingsFailed;
    private readonly Counter<long> _utterances;
    private readonly Counter<double> _audioSeconds;
    private readonly Counter<long> _vadFallbacks;
    private readonly Histogram<double> _stageSeconds;
    private readonly Histogram<double> _realTimeFactor;
    private long _queueDepth;
    private long _lastPassUnixSeconds;

    public PipelineTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        _recordingsProcessed = _meter.CreateCounter<long>("emotionbatch.recordings.processed", "{recording}", "Recordings whose rows were committed.");
        _recordingsFailed = _meter.CreateCounter<long>("emotionbatch.recordings.failed", "{recording}", "Recordings that failed, by stage.");
        _utterances = _meter.CreateCounter<long>("emotionbatch.utterances", "{utterance}", "Utterance rows committed.");
        _audioSeconds = _meter.CreateCounter<double>("emotionbatch.audio.duration", "s", "Seconds of audio processed.");
        _vadFallbacks = _meter.CreateCounter<long>("emotionbatch.recordings.vad_fallback", "{recording}",
            "Recordings heard again at Vad:FallbackThreshold because the first pass found no speech, by whether the second found any (found = true/false).");
        _stageSeconds = _meter.CreateHistogram<double>("emotionbatch.stage.duration", "s",
            "Time spent in each pipeline stage per call: fetch, probe, commit and decode_segment once per recording (decode_segment twice for one heard again by the VAD's fallback pass), transcribe per packed window, infer per window of utterances (up to four batches).");
        _realTimeFactor = _meter.CreateHistogram<double>("emotionbatch.recording.real_time_factor", "1", "Seconds of audio per second of processing, per recording.");
        _meter.CreateObservableGauge("emotionbatch.queue.depth", () => Interlocked.Read(ref _queueDepth), "{recording}", "Recordings listed in the current pass and not yet finished.");
    }

    public static readonly ActivitySource Tracing = new(Name);

    /// <summary>Unix time of the last finished pass; the liveness check reads it.</summary>
    public DateTimeOffset? LastPassFinished
    {
        get
        {
            var seconds = Interlocked.Read(ref _lastPassUnixSeconds);
            return seconds == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(seconds);
        }
    }

    /// <summary>Set when the last pass threw (store unreachable); cleared by the next good pass. Readiness reads it.</summary>
    public string? LastPassError { get; private set; }

    public void RecordingCompleted(int utterances, double audioSeconds, TimeSpan elapsed)
    {
        _recordingsProcessed.Add(1);
        _utterances.Add(utterances);
        _audioSeconds.Add(audioSeconds);
        if (elapsed > TimeSpan.Zero && audioSeconds > 0)
        {
            _realTimeFactor.Record(audioSeconds / elapsed.TotalSeconds);
        }
    }

    public void VadFallback(bool found) => _vadFallbacks.Add(1, new KeyValuePair<string, object?>("found", found));

    public void RecordingFailed(string stage) => _recordingsFailed.Add(1, new KeyValuePair<string, object?>("stage", stage));

    public void StageFinished(string stage, TimeSpan elapsed) =>
        _stageSeconds.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));

    public void QueueChanged(long delta) => Interlocked.Add(ref _queueDepth, delta);

    public void PassFinished(DateTimeOffset at, string? error)
    {
        Interlocked.Exchange(ref _lastPassUnixSeconds, at.ToUnixTimeSeconds());
        LastPassError = error;
    }

    public void Dispose() => _meter.Dispose();
}

namespace EmotionBatch.Audio;

/// <summary>A stretch of the recording in samples, padding included; <see cref="End"/> is exclusive.</summary>
internal readonly record struct SampleSpan(long Start, long End);

/// <summary>
/// Turns per-window speech probabilities into utterance spans, as Silero's reference get_speech_timestamps does:
/// start at <c>threshold</c>, end after <c>MinSilence</c> below <c>threshold - 0.15</c>, drop detections shorter than
/// <c>MinSpeech</c>, pad both sides. Works window by window so a span is reported as soon as its end is certain, and
/// splits speech that would outgrow <c>MaxUtterance</c> at the least speech-like window of its last third.
/// </summary>
internal sealed class SpeechTracker
{
    public const int WindowSamples = 512;

    private readonly float _threshold;
    private readonly float _negativeThreshold;
    private readonly long _minSpeech;
    private readonly long _minSilence;
    private readonly long _padding;
    private readonly long _maxUtterance;
    // Probability of each window since _speechStart; bounded because utterances are split at _maxUtterance.
    private readonly float[] _probabilities;
    private int _count;

    private bool _triggered;
    // The current utterance continues one that was split: its tail is kept however short, since it is speech.
    private bool _continuation;
    private long _speechStart;
    private long _paddedStart;
    private long _silenceStart = -1;
    private long _lastEnd;

    public SpeechTracker(VadOptions options, float threshold, int sampleRate)
    {
        _threshold = threshold;
        _negativeThreshold = Math.Max(threshold - 0.15f, 0.01f);
        _minSpeech = (long)options.MinSpeechMs * sampleRate / 1000;
        _minSilence = (long)options.MinSilenceMs * sampleRate / 1000;
        _padding = (long)options.PaddingMs * sampleRate / 1000;
        _maxUtterance = (long)(options.MaxUtteranceSeconds * sampleRate);
        _probabilities = new float[_maxUtterance / WindowSamples + 4];
    }

    /// <summary>The earliest sample a later span can still include; everything before it may be dropped.</summary>
    public long RetainFrom { get; private set; }

    /// <summary>Feeds the probability of the window starting at <paramref name="windowStart"/>; windows must be consecutive.</summary>
    public bool Push(long windowStart, float probability, out SampleSpan span)
    {
        span = default;
        var emitted = false;
        var windowEnd = windowStart + WindowSamples;

        if (probability >= _threshold)
        {
            _silenceStart = -1;
            if (!_triggered)
            {
                _triggered = true;
                _speechStart = windowStart;
                _paddedStart = Math.Max(windowStart - _padding, _lastEnd);
                _continuation = false;
                _count = 0;
            }
        }

        if (_triggered)
        {
            _probabilities[_count++] = probability;
            if (probability < _negativeThreshold)
            {
                if (_silenceStart < 0)
                {
                    _silenceStart = windowStart;
                }
                if (windowEnd - _silenceStart >= _minSilence)
                {
                    _triggered = false;
                    var end = _silenceStart;
                    _silenceStart = -1;
                    if (end - _speechStart >= _minSpeech || (_continuation && end > _speechStart))
                    {
                        // Padding reaches only into audio already seen, which MinSilence normally covers.
                        span = new SampleSpan(_paddedStart, Math.Min(end + _padding, windowEnd));
                        _lastEnd = span.End;
                        emitted = true;
                    }
                }
            }

            if (_triggered && windowEnd + _padding - _paddedStart > _maxUtterance)
            {
                span = Split();
                emitted = true;
            }
        }

        RetainFrom = _triggered ? _paddedStart : Math.Max(_lastEnd, windowEnd - _padding);
        return emitted;
    }

    /// <summary>Closes an utterance still open when the recording ends at <paramref name="totalSamples"/>.</summary>
    public bool Finish(long totalSamples, out SampleSpan span)
    {
        span = default;
        if (!_triggered)
        {
            return false;
        }
        _triggered = false;
        var end = Math.Min(_silenceStart >= 0 ? _silenceStart : totalSamples, totalSamples);
        if (end - _speechStart < _minSpeech && !(_continuation && end > _speechStart))
        {
            return false;
        }
        span = new SampleSpan(Math.Min(_paddedStart, end), Math.Min(end + _padding, totalSamples));
        _lastEnd = span.End;
        return true;
    }

    private SampleSpan Split()
    {
        // Latest minimum of the last third: a real pause if there is one, else as late (as long) as allowed.
        var best = _count - 1;
        var bestProbability = float.MaxValue;
        for (var k = Math.Max(1, _count * 2 / 3); k < _count; k++)
        {
            if (_probabilities[k] <= bestProbability)
            {
                bestProbability = _probabilities[k];
                best = k;
            }
        }
        var splitAt = _speechStart + (long)best * WindowSamples;
        var first = new SampleSpan(_paddedStart, splitAt);

        // The rest continues as a new utterance that starts exactly where the first one stops (no padding between).
        Array.Copy(_probabilities, best, _probabilities, 0, _count - best);
        _count -= best;
        _speechStart = splitAt;
        _paddedStart = splitAt;
        _lastEnd = splitAt;
        _continuation = true;
        if (_silenceStart >= 0 && _silenceStart < splitAt)
        {
            _silenceStart = splitAt;
        }
        return first;
    }
}

using System.Runtime.CompilerServices;
using EmotionBatch.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace EmotionBatch.Audio;

/// <summary>
/// Voice activity detection with Silero VAD v5/v6 (ONNX): one long-lived session shared by all recordings, a per-recording
/// stream state with buffers bound once, and utterances yielded as soon as each one ends.
/// </summary>
public sealed partial class SileroSpeechSegmenter : ISpeechSegmenter, IDisposable
{
    private const int SampleRate = IAudioDecoder.SampleRate;
    // Samples appended per step: keeps the working buffer bounded whatever chunk sizes the caller sends.
    private const int AppendSlice = 4096;

    private readonly VadOptions _options;
    private readonly ILogger<SileroSpeechSegmenter> _logger;
    private readonly InferenceSession _session;

    public SileroSpeechSegmenter(IOptions<VadOptions> options, ILogger<SileroSpeechSegmenter> logger)
    {
        _options = options.Value;
        _logger = logger;
        var modelPath = SileroVadModel.EnsureAvailable(_options.ModelPath);

        using var sessionOptions = new SessionOptions
        {
            // The model is tiny and sequential; one thread per call lets recordings run side by side instead.
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(modelPath, sessionOptions);
        try
        {
            SileroStream.CheckInterface(_session, modelPath);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
        LogModelLoaded(_logger, modelPath);
    }

    public async IAsyncEnumerable<Utterance> SegmentAsync(
        IAsyncEnumerable<PcmChunk> pcm, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stream = new SileroStream(_session, _options);
        await foreach (var chunk in pcm.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var samples = chunk.Samples;
            while (!samples.IsEmpty)
            {
                var slice = samples[..Math.Min(samples.Length, AppendSlice)];
                samples = samples[slice.Length..];
                stream.Append(slice.Span);
                while (stream.Next(endOfStream: false) is { } utterance)
                {
                    LogUtterance(_logger, utterance.Index, utterance.StartSeconds, utterance.EndSeconds);
                    yield return utterance;
                }
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        while (stream.Next(endOfStream: true) is { } utterance)
        {
            LogUtterance(_logger, utterance.Index, utterance.StartSeconds, utterance.EndSeconds);
            yield return utterance;
        }
    }

    public void Dispose() => _session.Dispose();

    /// <summary>Speech probability of each whole 512-sample window, for parity checks against the reference.</summary>
    internal float[] ScoreWindows(ReadOnlySpan<float> samples)
    {
        using var stream = new SileroStream(_session, _options);
        var scores = new float[samples.Length / SpeechTracker.WindowSamples];
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = stream.Score(samples.Slice(i * SpeechTracker.WindowSamples, SpeechTracker.WindowSamples));
        }
        return scores;
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Loaded Silero VAD model {ModelPath}")]
    private static partial void LogModelLoaded(ILogger logger, string modelPath);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Utterance {Index}: {StartSeconds:0.000}-{EndSeconds:0.000} s")]
    private static partial void LogUtterance(ILogger logger, int index, double startSeconds, double endSeconds);

    /// <summary>
    /// Model state for one recording. Input, state and output tensors wrap arrays allocated here once and are bound to
    /// an <see cref="OrtIoBinding"/>, so each 32 ms window is a copy into the input array and one run, without allocation.
    /// </summary>
    private sealed class SileroStream : IDisposable
    {
        private const int Context = 64;
        private const int Window = SpeechTracker.WindowSamples;
        private const int StateSize = 2 * 1 * 128;

        private readonly InferenceSession _session;
        private readonly float[] _input = new float[Context + Window];
        private readonly float[] _state = new float[StateSize];
        private readonly float[] _stateOut = new float[StateSize];
        private readonly float[] _probability = new float[1];
        private readonly long[] _sampleRate = [SampleRate];
        private readonly OrtValue[] _values;
        private readonly OrtIoBinding _binding;
        private readonly RunOptions _runOptions = new();
        private readonly SpeechTracker _tracker;
        private readonly PcmBuffer _buffer;

        private long _nextWindow;
        private bool _finalWindowDone;
        private bool _finished;
        private int _index;

        public SileroStream(InferenceSession session, VadOptions options)
        {
            _session = session;
            _tracker = new SpeechTracker(options, SampleRate);
            var maxSamples = (int)(options.MaxUtteranceSeconds * SampleRate);
            _buffer = new PcmBuffer(maxSamples + (options.PaddingMs + options.MinSilenceMs) * SampleRate / 1000 + AppendSlice + 2 * Window);

            var input = OrtValue.CreateTensorValueFromMemory(_input, [1, Context + Window]);
            var state = OrtValue.CreateTensorValueFromMemory(_state, [2, 1, 128]);
            var sr = OrtValue.CreateTensorValueFromMemory(_sampleRate, []);
            var output = OrtValue.CreateTensorValueFromMemory(_probability, [1, 1]);
            var stateOut = OrtValue.CreateTensorValueFromMemory(_stateOut, [2, 1, 128]);
            _values = [input, state, sr, output, stateOut];
            _binding = session.CreateIoBinding();
            _binding.BindInput("input", input);
            _binding.BindInput("state", state);
            _binding.BindInput("sr", sr);
            _binding.BindOutput("output", output);
            _binding.BindOutput("stateN", stateOut);
        }

        public static void CheckInterface(InferenceSession session, string modelPath)
        {
            string[] inputs = ["input", "state", "sr"];
            string[] outputs = ["output", "stateN"];
            if (!inputs.All(session.InputMetadata.ContainsKey) || !outputs.All(session.OutputMetadata.ContainsKey))
            {
                throw new InvalidOperationException(
                    $"{modelPath} is not a Silero VAD v5/v6 model: expected inputs [{string.Join(", ", inputs)}] and outputs " +
                    $"[{string.Join(", ", outputs)}], found [{string.Join(", ", session.InputMetadata.Keys)}] and " +
                    $"[{string.Join(", ", session.OutputMetadata.Keys)}].");
            }
        }

        public void Append(ReadOnlySpan<float> samples)
        {
            _buffer.DiscardBefore(Math.Min(_tracker.RetainFrom, _nextWindow));
            _buffer.Append(samples);
        }

        /// <summary>Runs windows until one closes an utterance; null when more input is needed (or, at the end, when done).</summary>
        public Utterance? Next(bool endOfStream)
        {
            SampleSpan span;
            while (true)
            {
                if (_buffer.End >= _nextWindow + Window || (endOfStream && !_finalWindowDone && _buffer.End > _nextWindow))
                {
                    // The last partial window is zero-padded, as the reference implementation does.
                    _finalWindowDone |= _buffer.End < _nextWindow + Window;
                    if (RunWindow(out span))
                    {
                        return Cut(span);
                    }
                    continue;
                }
                if (endOfStream && !_finished)
                {
                    _finished = true;
                    if (_tracker.Finish(_buffer.End, out span))
                    {
                        return Cut(span);
                    }
                }
                return null;
            }
        }

        public float Score(ReadOnlySpan<float> window)
        {
            _input.AsSpan(Window, Context).CopyTo(_input);
            window.CopyTo(_input.AsSpan(Context));
            return Infer();
        }

        private float Infer()
        {
            _session.RunWithBinding(_runOptions, _binding);
            _stateOut.CopyTo(_state, 0);
            return _probability[0];
        }

        private bool RunWindow(out SampleSpan span)
        {
            _buffer.DiscardBefore(Math.Min(_tracker.RetainFrom, _nextWindow));
            // The model sees the last 64 samples of the previous window before the new 512.
            _input.AsSpan(Window, Context).CopyTo(_input);
            _buffer.CopyTo(_nextWindow, _input.AsSpan(Context));
            var emitted = _tracker.Push(_nextWindow, Infer(), out span);
            _nextWindow += Window;
            return emitted;
        }

        private Utterance Cut(SampleSpan span)
        {
            var end = Math.Min(span.End, _buffer.End);
            var samples = new float[end - span.Start];
            _buffer.CopyTo(span.Start, samples);
            return new Utterance(_index++, span.Start / (double)SampleRate, end / (double)SampleRate, samples);
        }

        public void Dispose()
        {
            _binding.Dispose();
            foreach (var value in _values)
            {
                value.Dispose();
            }
            _runOptions.Dispose();
            _buffer.Dispose();
        }
    }
}

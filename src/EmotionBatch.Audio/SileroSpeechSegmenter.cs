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
        IAsyncEnumerable<PcmChunk> pcm, VadPass pass, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stream = new SileroStream(_session, _options, _options.ThresholdOf(pass));
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
        using var stream = new SileroStream(_session, _options, _options.Threshold, sequential: true);
        return stream.ScoreSequentially(samples);
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Loaded Silero VAD model {ModelPath}")]
    private static partial void LogModelLoaded(ILogger logger, string modelPath);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Utterance {Index}: {StartSeconds:0.000}-{EndSeconds:0.000} s")]
    private static partial void LogUtterance(ILogger logger, int index, double startSeconds, double endSeconds);

    /// <summary>
    /// Model state for one recording. Silero is recurrent, so one stream is one window per run, and per-run overhead
    /// dominates its cost. The recording is therefore scored a block at a time in <see cref="VadOptions.Lanes"/>
    /// lanes run as one batch: lane 0 continues the recording's state, every other lane starts from a zero state
    /// <see cref="VadOptions.LaneWarmupMs"/> before its stretch, and scores from that warm-up are dropped.
    /// With one lane this is exactly the reference, window after window.
    /// </summary>
    private sealed class SileroStream : IDisposable
    {
        private const int Window = SpeechTracker.WindowSamples;

        private readonly InferenceSession _session;
        private readonly SpeechTracker _tracker;
        private readonly PcmBuffer _buffer;
        private readonly int _lanes;
        private readonly int _laneWindows;
        private readonly int _warmupWindows;
        private readonly float[] _scores;
        // Lane 0's recurrent state between blocks: where the previous block's last lane stopped.
        private readonly float[] _carriedState = new float[LaneBatch.StatePerLane * 2];
        private readonly RunOptions _runOptions = new();
        private LaneBatch? _fullBatch;
        private LaneBatch? _lastBatch;

        // Next window to score, and the scored windows not yet given to the tracker.
        private long _nextWindow;
        private long _scoredFrom;
        private int _scoredCount;
        private int _pushed;
        private bool _finalBlockDone;
        private bool _finished;
        private int _index;
        private readonly float _threshold;

        public SileroStream(InferenceSession session, VadOptions options, float threshold, bool sequential = false)
        {
            _session = session;
            _threshold = threshold;
            _tracker = new SpeechTracker(options, threshold, SampleRate);
            _lanes = sequential ? 1 : options.Lanes;
            // One lane scores each window as soon as it arrives, so utterances come out with no block delay.
            _laneWindows = _lanes == 1 ? 1 : Math.Max(1, (int)(options.LaneSeconds * SampleRate / Window));
            _warmupWindows = _lanes == 1 ? 0 : (int)Math.Ceiling(options.LaneWarmupMs * SampleRate / 1000.0 / Window);
            _scores = new float[BlockWindows];
            var maxSamples = (int)(options.MaxUtteranceSeconds * SampleRate);
            _buffer = new PcmBuffer(maxSamples + (options.PaddingMs + options.MinSilenceMs) * SampleRate / 1000
                + (BlockWindows + 2) * Window + AppendSlice);
        }

        /// <summary>Windows scored by one full block: lane 0's stretch includes the others' warm-up length.</summary>
        private int BlockWindows => _warmupWindows + _lanes * _laneWindows;

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
            Discard();
            _buffer.Append(samples);
        }

        /// <summary>Scores blocks until a window closes an utterance; null when more input is needed (or, at the end, when done).</summary>
        public Utterance? Next(bool endOfStream)
        {
            SampleSpan span;
            while (true)
            {
                if (_pushed < _scoredCount)
                {
                    var windowStart = _scoredFrom + (long)_pushed * Window;
                    if (_tracker.Push(windowStart, _scores[_pushed++], out span))
                    {
                        return Cut(span);
                    }
                    continue;
                }
                var pending = _buffer.End - _nextWindow;
                if (pending >= (long)BlockWindows * Window)
                {
                    ScoreBlock(BlockWindows, _lanes);
                    continue;
                }
                if (endOfStream && !_finalBlockDone)
                {
                    _finalBlockDone = true;
                    if (pending > 0)
                    {
                        // The last partial window is zero-padded, as the reference implementation does.
                        var windows = (int)((pending + Window - 1) / Window);
                        ScoreBlock(windows, LanesFor(windows));
                        continue;
                    }
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

        /// <summary>Scores windows one after another from the start, without lanes, for parity checks.</summary>
        public float[] ScoreSequentially(ReadOnlySpan<float> samples)
        {
            _buffer.Append(samples);
            var windows = samples.Length / Window;
            var scores = new float[windows];
            var batch = _lastBatch = new LaneBatch(_session, 1);
            for (var w = 0; w < windows; w++)
            {
                batch.Load(0, _buffer, (long)w * Window);
                scores[w] = batch.Run(_session, _runOptions)[0];
            }
            return scores;
        }

        /// <summary>Fewer lanes for a short last block, so warm-up never outweighs the windows it serves.</summary>
        private int LanesFor(int windows) =>
            Math.Clamp((windows - _warmupWindows) / Math.Max(1, 4 * _warmupWindows), 1, _lanes);

        private void ScoreBlock(int windows, int lanes)
        {
            var batch = lanes == _lanes
                ? _fullBatch ??= new LaneBatch(_session, lanes)
                : _lastBatch = _lastBatch?.Lanes == lanes ? _lastBatch : Replace(_lastBatch, new LaneBatch(_session, lanes));
            var blockStart = _nextWindow;
            var warmup = lanes == 1 ? 0 : _warmupWindows;
            // Lane 0 scores [0, first); lane k >= 1 scores [first + (k-1)*stretch, first + k*stretch) after its warm-up.
            var stretch = lanes == 1 ? windows : (windows - warmup + lanes - 1) / lanes;
            var first = lanes == 1 ? windows : warmup + stretch;

            int WindowOf(int lane, int step) => lane == 0 ? step : first + (lane - 1) * stretch - warmup + step;

            batch.ResetState(_carriedState);
            for (var step = 0; step < first; step++)
            {
                for (var lane = 0; lane < lanes; lane++)
                {
                    batch.Load(lane, _buffer, blockStart + (long)Math.Min(WindowOf(lane, step), windows) * Window);
                }
                var probabilities = batch.Run(_session, _runOptions);
                for (var lane = 0; lane < lanes; lane++)
                {
                    var window = WindowOf(lane, step);
                    if ((lane == 0 || step >= warmup) && window < windows)
                    {
                        _scores[window] = probabilities[lane];
                    }
                }
            }
            // Full blocks end every lane on the block's last window, so the last lane's state carries on to lane 0.
            batch.CopyState(lanes - 1, _carriedState);

            _scoredFrom = blockStart;
            _scoredCount = windows;
            _pushed = 0;
            _nextWindow = blockStart + (long)windows * Window;
        }

        private static LaneBatch Replace(LaneBatch? old, LaneBatch replacement)
        {
            old?.Dispose();
            return replacement;
        }

        private void Discard()
        {
            // Keep what the tracker may still cut, and the 64 samples of context before the next window to score.
            var unpushed = _pushed < _scoredCount ? _scoredFrom + (long)_pushed * Window : _nextWindow;
            _buffer.DiscardBefore(Math.Min(_tracker.RetainFrom, Math.Min(unpushed, _nextWindow - LaneBatch.Context)));
        }

        private Utterance Cut(SampleSpan span)
        {
            var end = Math.Min(span.End, _buffer.End);
            var samples = new float[end - span.Start];
            _buffer.CopyTo(span.Start, samples);
            return new Utterance(_index++, span.Start / (double)SampleRate, end / (double)SampleRate, samples) { VadThreshold = _threshold };
        }

        public void Dispose()
        {
            _fullBatch?.Dispose();
            _lastBatch?.Dispose();
            _runOptions.Dispose();
            _buffer.Dispose();
        }
    }

    /// <summary>
    /// Input, state and output tensors for a batch of lanes over arrays allocated once and bound to an
    /// <see cref="OrtIoBinding"/>, so a step is a copy of each lane's window and one run, without allocation.
    /// </summary>
    private sealed class LaneBatch : IDisposable
    {
        public const int Context = 64;
        public const int StatePerLane = 128;
        private const int Window = SpeechTracker.WindowSamples;
        private const int Input = Context + Window;

        private readonly float[] _input;
        private readonly float[] _state;
        private readonly float[] _stateOut;
        private readonly float[] _probabilities;
        private readonly long[] _sampleRate = [SampleRate];
        private readonly OrtValue[] _values;
        private readonly OrtIoBinding _binding;

        public LaneBatch(InferenceSession session, int lanes)
        {
            Lanes = lanes;
            _input = new float[lanes * Input];
            _state = new float[2 * lanes * StatePerLane];
            _stateOut = new float[2 * lanes * StatePerLane];
            _probabilities = new float[lanes];
            var input = OrtValue.CreateTensorValueFromMemory(_input, [lanes, Input]);
            var state = OrtValue.CreateTensorValueFromMemory(_state, [2, lanes, StatePerLane]);
            var sr = OrtValue.CreateTensorValueFromMemory(_sampleRate, []);
            var output = OrtValue.CreateTensorValueFromMemory(_probabilities, [lanes, 1]);
            var stateOut = OrtValue.CreateTensorValueFromMemory(_stateOut, [2, lanes, StatePerLane]);
            _values = [input, state, sr, output, stateOut];
            _binding = session.CreateIoBinding();
            _binding.BindInput("input", input);
            _binding.BindInput("state", state);
            _binding.BindInput("sr", sr);
            _binding.BindOutput("output", output);
            _binding.BindOutput("stateN", stateOut);
        }

        public int Lanes { get; }

        /// <summary>Lane 0 gets <paramref name="lane0State"/> (both layers), the others a zero state.</summary>
        public void ResetState(ReadOnlySpan<float> lane0State)
        {
            Array.Clear(_state);
            for (var layer = 0; layer < 2; layer++)
            {
                lane0State.Slice(layer * StatePerLane, StatePerLane).CopyTo(_state.AsSpan(layer * Lanes * StatePerLane, StatePerLane));
            }
        }

        public void CopyState(int lane, Span<float> destination)
        {
            for (var layer = 0; layer < 2; layer++)
            {
                _state.AsSpan((layer * Lanes + lane) * StatePerLane, StatePerLane).CopyTo(destination.Slice(layer * StatePerLane, StatePerLane));
            }
        }

        /// <summary>The window at <paramref name="windowStart"/> with the 64 samples before it (zeros before the recording).</summary>
        public void Load(int lane, PcmBuffer buffer, long windowStart)
        {
            var row = _input.AsSpan(lane * Input, Input);
            if (windowStart < Context)
            {
                row[..Context].Clear();
                buffer.CopyTo(windowStart, row[Context..]);
            }
            else
            {
                buffer.CopyTo(windowStart - Context, row);
            }
        }

        public float[] Run(InferenceSession session, RunOptions runOptions)
        {
            session.RunWithBinding(runOptions, _binding);
            _stateOut.CopyTo(_state, 0);
            return _probabilities;
        }

        public void Dispose()
        {
            _binding.Dispose();
            foreach (var value in _values)
            {
                value.Dispose();
            }
        }
    }
}

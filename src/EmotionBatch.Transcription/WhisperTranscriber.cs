using System.Collections.Concurrent;
using EmotionBatch.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Whisper.net;

namespace EmotionBatch.Transcription;

/// <summary>
/// Transcribes utterances with Whisper.net in packed windows (<see cref="PackedTranscriber"/>): one model (factory) for
/// the process, processors pooled because a processor is not thread safe. Without a configured model it is disabled
/// and every transcript is null.
/// </summary>
public sealed partial class WhisperTranscriber : ITranscriber, IWindowRecognizer, IDisposable
{
    private readonly TranscriptionOptions _options;
    private readonly WhisperFactory? _factory;
    private readonly PackedTranscriber _packed;
    private readonly ConcurrentBag<PooledProcessor> _idle = [];
    private int _disposed;

    public WhisperTranscriber(TranscriptionOptions options, ILogger<WhisperTranscriber>? logger = null)
        : this(options, logger, verifyModel: true)
    {
    }

    /// <param name="verifyModel">False when start-up validation has already checked the file and its hash.</param>
    public WhisperTranscriber(TranscriptionOptions options, ILogger<WhisperTranscriber>? logger, bool verifyModel)
    {
        ILogger log = logger ?? NullLogger<WhisperTranscriber>.Instance;
        _options = options;
        var fixedLanguage = options.Language == TranscriptionOptions.AutoLanguage ? null : options.Language;
        if (!options.IsEnabled)
        {
            _packed = new PackedTranscriber(null, options.PackSeconds);
            LogDisabled(log);
            return;
        }
        if (verifyModel)
        {
            WhisperModelCheck.ThrowIfInvalid(options);
        }
        var path = Path.GetFullPath(options.ModelPath!);
        try
        {
            _factory = WhisperFactory.FromPath(path, new WhisperFactoryOptions { UseFlashAttention = options.FlashAttention });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"{TranscriptionOptions.SectionName}:ModelPath: Whisper could not load {path}: {e.Message}", e);
        }
        _packed = new PackedTranscriber(this, options.PackSeconds, fixedLanguage);
        LogLoaded(log, path, options.Language, options.PackSeconds);
    }

    public bool IsEnabled => _factory is not null;

    public double PackSeconds => _packed.PackSeconds;

    /// <summary>What the recognitions so far cost: calls, encoder runs and decoded tokens (for the bench and metrics).</summary>
    public RecognitionCounters Counters { get; } = new();

    public Task<IReadOnlyList<Transcript?>> TranscribeAsync(IReadOnlyList<Utterance> utterances, CancellationToken cancellationToken) =>
        _packed.TranscribeAsync(utterances, cancellationToken);

    /// <summary>One Whisper call over one window; segment times are from the window's start.</summary>
    public async Task<IReadOnlyList<RecognizedSegment>> RecognizeAsync(float[] window, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (_factory is null || window.Length == 0)
        {
            return [];
        }
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        var pooled = Rent();
        pooled.EncoderRuns = 0;
        pooled.Capped = false;
        var reusable = false;
        try
        {
            var segments = new List<RecognizedSegment>();
            long tokens = 0;
            await foreach (var segment in pooled.Processor.ProcessAsync(window, cancellationToken).ConfigureAwait(false))
            {
                segments.Add(new RecognizedSegment(segment.Start.TotalSeconds, segment.End.TotalSeconds, segment.Text, segment.Language));
                tokens += segment.Tokens?.Length ?? 0;
            }
            reusable = true;
            // Language detection encodes the window once more, outside the encoder-begin handler's count.
            var detection = _options.Language == TranscriptionOptions.AutoLanguage ? 1 : 0;
            Counters.Add(pooled.EncoderRuns + detection, tokens, window.Length / (double)IAudioDecoder.SampleRate, pooled.Capped);
            return segments;
        }
        finally
        {
            // A processor interrupted mid-run may hold half a decoding state: drop it instead of pooling it.
            if (reusable && Volatile.Read(ref _disposed) == 0)
            {
                _idle.Add(pooled);
            }
            else
            {
                await pooled.Processor.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private PooledProcessor Rent()
    {
        if (_idle.TryTake(out var pooled))
        {
            return pooled;
        }
        var created = new PooledProcessor();
        var builder = _factory!.CreateBuilder()
            // Windows are independent (utterances of one channel, silences cut): no prompt carried from one to the next.
            .WithNoContext()
            // The count lets a call stop a model that keeps re-encoding its window (see MaxEncoderRunsPerCall).
            .WithEncoderBeginHandler(_ => created.TryStartEncoder(_options.MaxEncoderRunsPerCall));
        builder = _options.Language == TranscriptionOptions.AutoLanguage
            ? builder.WithLanguageDetection()
            : builder.WithLanguage(_options.Language);
        if (_options.Threads > 0)
        {
            builder = builder.WithThreads(_options.Threads);
        }
        if (_options.MaxTokensPerSegment > 0)
        {
            builder = builder.WithMaxTokensPerSegment(_options.MaxTokensPerSegment);
        }
        if (!_options.TemperatureFallback)
        {
            builder = builder.WithTemperatureInc(0);
        }
        if (_options.Temperature > 0)
        {
            builder = builder.WithTemperature((float)_options.Temperature);
        }
        created.Processor = builder.Build();
        return created;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        while (_idle.TryTake(out var pooled))
        {
            pooled.Processor.Dispose();
        }
        _factory?.Dispose();
    }

    private sealed class PooledProcessor
    {
        public WhisperProcessor Processor { get; set; } = null!;

        public int EncoderRuns { get; set; }

        /// <summary>The call asked for more encoder runs than allowed; the rest of its window has no transcript.</summary>
        public bool Capped { get; set; }

        public bool TryStartEncoder(int limit)
        {
            if (EncoderRuns >= limit)
            {
                Capped = true;
                return false;
            }
            EncoderRuns++;
            return true;
        }
    }

    [LoggerMessage(EventId = 2501, Level = LogLevel.Warning, Message = "no speech-recognition model configured; transcripts will be empty and the text modality masked")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(EventId = 2502, Level = LogLevel.Information, Message = "Loaded Whisper model {Path} (language {Language}, windows of {PackSeconds} s)")]
    private static partial void LogLoaded(ILogger logger, string path, string language, double packSeconds);
}

/// <summary>Running totals of recognition cost, safe to read while calls run.</summary>
public sealed class RecognitionCounters
{
    private long _calls;
    private long _encoderRuns;
    private long _tokens;
    private long _windowMilliseconds;
    private long _capped;

    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Encoder passes, language detection's included.</summary>
    public long EncoderRuns => Interlocked.Read(ref _encoderRuns);

    /// <summary>Calls stopped by <see cref="TranscriptionOptions.MaxEncoderRunsPerCall"/>: the ends of their windows went untranscribed.</summary>
    public long CappedCalls => Interlocked.Read(ref _capped);

    public long Tokens => Interlocked.Read(ref _tokens);

    /// <summary>Audio handed to Whisper (windows, gaps and padding included).</summary>
    public double WindowSeconds => Interlocked.Read(ref _windowMilliseconds) / 1000.0;

    internal void Add(int encoderRuns, long tokens, double windowSeconds, bool capped)
    {
        Interlocked.Increment(ref _calls);
        if (capped)
        {
            Interlocked.Increment(ref _capped);
        }
        Interlocked.Add(ref _encoderRuns, encoderRuns);
        Interlocked.Add(ref _tokens, tokens);
        Interlocked.Add(ref _windowMilliseconds, (long)(windowSeconds * 1000));
    }
}

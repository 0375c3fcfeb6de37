using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using EmotionBatch.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Whisper.net;

namespace EmotionBatch.Transcription;

/// <summary>
/// Transcribes utterances with Whisper.net: one model (factory) for the process, processors pooled because a
/// processor is not thread safe. Without a configured model it is disabled and every transcript is null.
/// </summary>
public sealed partial class WhisperTranscriber : ITranscriber, IDisposable
{
    /// <summary>whisper.cpp skips inputs under one second; shorter utterances are padded with silence past it.</summary>
    private const int MinimumSamples = IAudioDecoder.SampleRate + IAudioDecoder.SampleRate / 10;

    private readonly TranscriptionOptions _options;
    private readonly WhisperFactory? _factory;
    private readonly ConcurrentBag<WhisperProcessor> _idle = [];
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
        if (!options.IsEnabled)
        {
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
            _factory = WhisperFactory.FromPath(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"{TranscriptionOptions.SectionName}:ModelPath: Whisper could not load {path}: {e.Message}", e);
        }
        LogLoaded(log, path, options.Language);
    }

    public bool IsEnabled => _factory is not null;

    public async Task<Transcript?> TranscribeAsync(Utterance utterance, CancellationToken cancellationToken)
    {
        if (_factory is null || utterance.Samples.Length == 0)
        {
            return null;
        }
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        var samples = utterance.Samples;
        if (samples.Length < MinimumSamples)
        {
            Array.Resize(ref samples, MinimumSamples);
        }

        var processor = Rent();
        var reusable = false;
        try
        {
            var text = new StringBuilder();
            string? language = null;
            await foreach (var segment in processor.ProcessAsync(samples, cancellationToken).ConfigureAwait(false))
            {
                text.Append(segment.Text);
                language ??= segment.Language;
            }
            reusable = true;
            var transcript = text.ToString().Trim();
            if (transcript.Length == 0 || NonSpeechMarker().IsMatch(transcript))
            {
                return null;
            }
            if (string.IsNullOrEmpty(language) && _options.Language != TranscriptionOptions.AutoLanguage)
            {
                language = _options.Language;
            }
            return new Transcript(transcript, string.IsNullOrEmpty(language) ? null : language);
        }
        finally
        {
            // A processor interrupted mid-run may hold half a decoding state: drop it instead of pooling it.
            if (reusable && Volatile.Read(ref _disposed) == 0)
            {
                _idle.Add(processor);
            }
            else
            {
                await processor.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private WhisperProcessor Rent()
    {
        if (_idle.TryTake(out var processor))
        {
            return processor;
        }
        var builder = _factory!.CreateBuilder();
        builder = _options.Language == TranscriptionOptions.AutoLanguage
            ? builder.WithLanguageDetection()
            : builder.WithLanguage(_options.Language);
        if (_options.Threads > 0)
        {
            builder = builder.WithThreads(_options.Threads);
        }
        return builder.Build();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        while (_idle.TryTake(out var processor))
        {
            processor.Dispose();
        }
        _factory?.Dispose();
    }

    /// <summary>Whisper's annotations for non-speech, e.g. "[BLANK_AUDIO]" or "(silence)", are not transcripts.</summary>
    [GeneratedRegex(@"^(\s*(\[[^\]]*\]|\([^)]*\)))+\s*$")]
    private static partial Regex NonSpeechMarker();

    [LoggerMessage(Level = LogLevel.Warning, Message = "no speech-recognition model configured; transcripts will be empty and the text modality masked")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded Whisper model {Path} (language {Language})")]
    private static partial void LogLoaded(ILogger logger, string path, string language);
}

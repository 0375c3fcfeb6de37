using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EmotionBatch.Core;
using FFMpegCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Audio;

/// <summary>
/// Decodes a local recording with ffmpeg to 16 kHz float PCM (mixed to mono, or one stream per channel: see
/// <see cref="DecoderOptions.Channels"/>), streamed from ffmpeg's stdout in bounded chunks.
/// The input reaches ffmpeg only as a <c>file:</c> URL with the file protocol and an allowlist of audio demuxers, so
/// playlists and other referencing formats cannot make ffmpeg open further files or the network. ffprobe runs only to
/// name a refused format in the reason.
/// </summary>
public sealed partial class FfmpegAudioDecoder : IAudioDecoder
{
    private const int BytesPerSample = sizeof(float);

    private readonly DecoderOptions _options;
    private readonly ILogger<FfmpegAudioDecoder> _logger;
    private readonly string _ffmpeg;
    private readonly string _ffprobe;

    public FfmpegAudioDecoder(IOptions<DecoderOptions> options, ILogger<FfmpegAudioDecoder> logger)
    {
        _options = options.Value;
        _logger = logger;
        var ffOptions = new FFOptions { BinaryFolder = _options.FfmpegFolder ?? string.Empty };
        // A configured folder is used as given: FFMpegCore would quietly fall back to PATH when the folder lacks ffmpeg.
        _ffmpeg = string.IsNullOrEmpty(_options.FfmpegFolder) ? GlobalFFOptions.GetFFMpegBinaryPath(ffOptions) : InFolder("ffmpeg");
        _ffprobe = string.IsNullOrEmpty(_options.FfmpegFolder) ? GlobalFFOptions.GetFFProbeBinaryPath(ffOptions) : InFolder("ffprobe");

        string InFolder(string name) => Path.Combine(Path.GetFullPath(_options.FfmpegFolder!), OperatingSystem.IsWindows() ? name + ".exe" : name);
    }

    /// <summary>
    /// Checks once, when the host starts, that the configured ffmpeg runs and is new enough: the input description is
    /// read from FFmpeg 5+'s layout (stream lines indented by two spaces), so an older build would otherwise fail every
    /// recording with "no audio stream found".
    /// </summary>
    public async Task VerifyFfmpegAsync(CancellationToken cancellationToken)
    {
        using var ffmpeg = FfmpegProcess.Start(_ffmpeg, ["-hide_banner", "-version"], cancellationToken);
        using var output = new StreamReader(ffmpeg.StandardOutput);
        var version = await output.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await ffmpeg.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (FfmpegVersion.Problem(_ffmpeg, version) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
        LogFfmpeg(_logger, _ffmpeg, FfmpegVersion.Banner(version));
    }

    /// <summary>
    /// One ffmpeg process describes the recording and decodes it: its description (container, length, first audio
    /// stream) is read from stderr before any sample is taken, so refusals (no audio, too long, refused container)
    /// come with clear reasons and cost no separate ffprobe start.
    /// </summary>
    public async Task<DecodingAudio> OpenAsync(string path, CancellationToken cancellationToken)
    {
        var fullPath = CheckLocalFile(path);
        var playlist = await SniffPlaylistAsync(fullPath, cancellationToken).ConfigureAwait(false);
        if (playlist is not null)
        {
            LogRefused(_logger, path, playlist);
            throw Refused(PipelineStage.Probe, ContainerPolicy.RefusalReason(playlist));
        }
        return await OpenWithoutSniffingAsync(fullPath, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The description alone: opens the recording and stops decoding at once.</summary>
    public async Task<AudioInfo> ProbeAsync(string path, CancellationToken cancellationToken)
    {
        await using var audio = await OpenAsync(path, cancellationToken).ConfigureAwait(false);
        return audio.Info;
    }

    /// <summary>ffmpeg alone (no sniffing), so its own whitelist can be exercised directly.</summary>
    internal async Task<DecodingAudio> OpenWithoutSniffingAsync(string fullPath, CancellationToken cancellationToken)
    {
        // Mix asks ffmpeg for mono at once; the other modes take the channels as they are, and only a layout they do not
        // split (Auto: more than two channels) costs a second ffmpeg start, mixing to mono.
        var mixToMono = _options.Channels == ChannelMode.Mix;
        while (true)
        {
            var ffmpeg = FfmpegProcess.Start(_ffmpeg, DecodeArguments(fullPath, mixToMono), cancellationToken, levelTagged: true);
            try
            {
                var info = await DescribeAsync(fullPath, ffmpeg, cancellationToken).ConfigureAwait(false);
                var layout = mixToMono ? StreamLayout.Mono : ChooseLayout(info);
                if (layout is null)
                {
                    ffmpeg.Dispose();
                    mixToMono = true;
                    continue;
                }
                LogProbed(_logger, fullPath, info.Format, info.DurationSeconds, info.SampleRate, info.Channels);
                return new FfmpegDecodingAudio(info, layout, ffmpeg, this);
            }
            catch
            {
                ffmpeg.Dispose();
                throw;
            }
        }
    }

    /// <summary>What ffmpeg says of the input, checked against the policy: allowed container, an audio stream, not too long.</summary>
    private async Task<AudioInfo> DescribeAsync(string fullPath, FfmpegProcess ffmpeg, CancellationToken cancellationToken)
    {
        await ffmpeg.InputDescribed.WaitAsync(cancellationToken).ConfigureAwait(false);
        var description = InputDescription.Parse(ffmpeg.DescriptionLines());
        if (description is null)
        {
            // ffmpeg could not open or recognise the file; it has exited or is about to.
            await ffmpeg.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (ffmpeg.StderrLines().Any(l => l.Contains("not on whitelist", StringComparison.Ordinal)))
            {
                var detected = await DetectRefusedFormatAsync(FileUrl(fullPath), cancellationToken).ConfigureAwait(false);
                LogRefused(_logger, fullPath, detected);
                throw Refused(PipelineStage.Probe, ContainerPolicy.RefusalReason(detected));
            }
            throw Refused(PipelineStage.Probe, $"not a readable audio file: ffmpeg: {ffmpeg.StderrSummary()}");
        }
        if (!ContainerPolicy.IsAllowed(description.Format))
        {
            LogRefused(_logger, fullPath, description.Format);
            throw Refused(PipelineStage.Probe, ContainerPolicy.RefusalReason(description.Format));
        }
        if (!description.HasAudio)
        {
            throw Refused(PipelineStage.Probe, "not an audio file: no audio stream found");
        }
        var info = new AudioInfo(fullPath, description.DurationSeconds, description.SampleRate, description.Channels, description.Format);
        if (info.DurationSeconds > _options.MaxDurationSeconds)
        {
            throw TooLong(PipelineStage.Probe, string.Create(CultureInfo.InvariantCulture, $"{info.DurationSeconds / 3600:0.##} h ({info.DurationSeconds:0} s)"));
        }
        return info;
    }

    /// <summary>How an ffmpeg started without downmixing turns its output into streams; null when it must be mixed instead.</summary>
    private StreamLayout? ChooseLayout(AudioInfo info) => (_options.Channels, info.Channels) switch
    {
        (_, 1) => StreamLayout.Mono,
        // A layout ffmpeg did not name with a channel count gives no way to cut its interleaved output safely.
        (_, <= 0) => null,
        (ChannelMode.Auto, 2) => new StreamLayout(2, StreamPlan.SplitUnlessSame),
        (ChannelMode.Auto, _) => null,
        (ChannelMode.Split, > DecoderOptions.MaxSplitChannels) => throw Refused(PipelineStage.Probe,
            $"{info.Channels} channels; at most {DecoderOptions.MaxSplitChannels} are decoded separately ({DecoderOptions.SectionName}:Channels = Split); use Mix or Auto for this recording"),
        (ChannelMode.Split, var channels) => new StreamLayout(channels, StreamPlan.Split),
        _ => null,
    };

    /// <summary>
    /// A float recording can hold NaN or infinite samples (ffmpeg passes them through); one of them would make every
    /// model output of its utterance non-finite. They become silence, the rest of the recording is kept.
    /// </summary>
    internal static void ReplaceNonFinite(Span<float> samples)
    {
        for (var i = 0; i < samples.Length; i++)
        {
            if (!float.IsFinite(samples[i]))
            {
                samples[i] = 0f;
            }
        }
    }

    private async IAsyncEnumerable<PcmChunk> ReadAsync(
        AudioInfo info, StreamLayout layout, FfmpegProcess ffmpeg, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var maxSamples = (long)(_options.MaxDurationSeconds * IAudioDecoder.SampleRate);
        var chunkSamples = Math.Max(1, _options.ChunkMilliseconds * IAudioDecoder.SampleRate / 1000);
        var frameBytes = layout.DecodedChannels * BytesPerSample;
        var started = Stopwatch.GetTimestamp();
        var buffer = ArrayPool<byte>.Shared.Rent(chunkSamples * frameBytes);
        // Auto holds a two-channel recording's first seconds until it knows whether the channels differ (DualMonoCheck).
        var sameSignal = new DualMonoCheck();
        var held = layout.Plan == StreamPlan.SplitUnlessSame ? new List<(long Start, float[][] Channels)>() : null;
        bool? split = layout.Plan switch
        {
            StreamPlan.Split => true,
            StreamPlan.Mono => false,
            _ => null,
        };
        long produced = 0;
        try
        {
            while (true)
            {
                var read = await ReadChunkAsync(ffmpeg.StandardOutput, buffer.AsMemory(0, chunkSamples * frameBytes), cancellationToken)
                    .ConfigureAwait(false);
                // A kill on cancellation ends the pipe early; that must not look like the end of the recording.
                cancellationToken.ThrowIfCancellationRequested();
                var frames = read / frameBytes;
                if (frames == 0)
                {
                    break;
                }

                // Fresh arrays per chunk: consumers may keep chunks, so the pooled read buffer is never handed out.
                var channels = Deinterleave(MemoryMarshal.Cast<byte, float>(buffer.AsSpan(0, frames * frameBytes)), layout.DecodedChannels);
                var start = produced;
                produced += frames;
                if (produced > maxSamples + IAudioDecoder.SampleRate)
                {
                    throw TooLong(PipelineStage.Decode, string.Create(CultureInfo.InvariantCulture, $"more than {produced / IAudioDecoder.SampleRate} s decoded"));
                }

                if (held is not null)
                {
                    held.Add((start, channels));
                    sameSignal.Add(channels[0], channels[1]);
                    split = sameSignal.Decide(endOfStream: false) is { } same ? !same : null;
                    if (split is null)
                    {
                        continue;
                    }
                    LogChannelDecision(_logger, info.Path, split.Value ? "split" : "mixed", sameSignal.Correlation);
                    foreach (var chunk in Release(held, split.Value))
                    {
                        yield return chunk;
                    }
                    held = null;
                }
                else
                {
                    foreach (var chunk in Streams(start, channels, split!.Value))
                    {
                        yield return chunk;
                    }
                }
                if (read < chunkSamples * frameBytes)
                {
                    break;
                }
            }
            if (held is not null)
            {
                // The recording ended while undecided: decide on all of it.
                split = !(sameSignal.Decide(endOfStream: true) ?? true);
                LogChannelDecision(_logger, info.Path, split.Value ? "split" : "mixed", sameSignal.Correlation);
                foreach (var chunk in Release(held, split.Value))
                {
                    yield return chunk;
                }
            }

            var exitCode = await ffmpeg.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (exitCode != 0 && ffmpeg.StderrLines().Any(l => l.Contains("Failed to configure output pad on auto_aresample", StringComparison.Ordinal)))
            {
                // ffmpeg has no downmix matrix for this channel layout (10 or 32 channels, say): its resampler cannot be set up.
                throw new RecordingFailedException(PipelineStage.Decode,
                    $"{info.Channels} channels without a standard layout cannot be downmixed to mono; convert the recording to mono or stereo first")
                {
                    Retryable = false,
                };
            }
            if (exitCode != 0)
            {
                throw new RecordingFailedException(PipelineStage.Decode, $"ffmpeg failed (exit code {exitCode}): {ffmpeg.StderrSummary()}")
                {
                    Retryable = false,
                };
            }
            if (produced == 0)
            {
                throw new RecordingFailedException(PipelineStage.Decode, $"no audio samples could be decoded: {ffmpeg.StderrSummary()}")
                {
                    Retryable = false,
                };
            }
            LogDecoded(_logger, info.Path, produced / (double)IAudioDecoder.SampleRate, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Interleaved frames to one array per channel, with non-finite samples made silent.</summary>
    internal static float[][] Deinterleave(ReadOnlySpan<float> interleaved, int channelCount)
    {
        var frames = interleaved.Length / channelCount;
        var channels = new float[channelCount][];
        for (var c = 0; c < channelCount; c++)
        {
            var channel = new float[frames];
            for (var i = 0; i < frames; i++)
            {
                channel[i] = interleaved[i * channelCount + c];
            }
            ReplaceNonFinite(channel);
            channels[c] = channel;
        }
        return channels;
    }

    /// <summary>The stretches Auto held while deciding, as the streams the decision calls for.</summary>
    private static IEnumerable<PcmChunk> Release(List<(long Start, float[][] Channels)> held, bool split) =>
        held.SelectMany(stretch => Streams(stretch.Start, stretch.Channels, split));

    /// <summary>The chunks of one stretch: one per channel (channel 0 first) when split, else the channels mixed into one stream.</summary>
    private static IEnumerable<PcmChunk> Streams(long start, float[][] channels, bool split)
    {
        if (channels.Length == 1 || !split)
        {
            yield return new PcmChunk(start, channels.Length == 1 ? channels[0] : Downmix(channels));
            yield break;
        }
        for (var c = 0; c < channels.Length; c++)
        {
            yield return new PcmChunk(start, channels[c]) { Channel = c };
        }
    }

    /// <summary>
    /// Two channels to mono with ffmpeg's own coefficients (each channel at -3 dB, as <c>-ac 1</c> mixes stereo), so a
    /// recording mixed here sounds exactly as in <see cref="ChannelMode.Mix"/>: its level is an arousal cue.
    /// </summary>
    private static float[] Downmix(float[][] channels)
    {
        const float Gain = 0.70710678f;
        var mono = new float[channels[0].Length];
        foreach (var channel in channels)
        {
            for (var i = 0; i < mono.Length; i++)
            {
                mono[i] += Gain * channel[i];
            }
        }
        return mono;
    }

    private static async Task<int> ReadChunkAsync(Stream stdout, Memory<byte> chunk, CancellationToken cancellationToken)
    {
        try
        {
            return await stdout.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    private static List<string> DecodeArguments(string fullPath, bool mixToMono) =>
    [
        // Level tags let the description be read from trusted info lines and keep info lines out of error reasons.
        "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info",
        .. InputArguments(),
        "-i", FileUrl(fullPath),
        "-map", "0:a:0",
        .. mixToMono ? (string[])["-ac", "1"] : [],
        "-ar", IAudioDecoder.SampleRate.ToString(CultureInfo.InvariantCulture),
        "-f", BitConverter.IsLittleEndian ? "f32le" : "f32be",
        // Fill ffmpeg's 32 KB output buffer before writing: by default every decoded packet (1-4 KB) is its own pipe
        // write, and each wakes the reader; this cuts the reader's CPU per recording several times over.
        "-flush_packets", "0",
        // Output side: only the stdout pipe may be written.
        "-protocol_whitelist", "pipe",
        "pipe:1",
    ];

    /// <summary>Input options shared by ffprobe and ffmpeg: local files only, audio demuxers only.</summary>
    private static IEnumerable<string> InputArguments() =>
        ["-protocol_whitelist", "file", "-format_whitelist", ContainerPolicy.FormatWhitelist];

    /// <summary>Asks ffprobe (same whitelists, so nothing is opened) which demuxer it recognised, for the refusal reason.</summary>
    private async Task<string> DetectRefusedFormatAsync(string url, CancellationToken cancellationToken)
    {
        using var ffprobe = FfmpegProcess.Start(
            _ffprobe, ["-hide_banner", "-loglevel", "debug", .. InputArguments(), url], cancellationToken);
        using var reader = new StreamReader(ffprobe.StandardOutput);
        await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await ffprobe.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var line in ffprobe.StderrLines())
        {
            // "[hls @ 0x...] Format hls probed with size=2048 and score=100"
            var at = line.IndexOf("Format ", StringComparison.Ordinal);
            var probed = line.IndexOf(" probed with", StringComparison.Ordinal);
            if (at >= 0 && probed > at + 7)
            {
                return line[(at + 7)..probed];
            }
        }
        return "unknown";
    }

    /// <summary>"file:" keeps a name like "-i" or "http:..." from being read as an option or another protocol.</summary>
    private static string FileUrl(string fullPath) => "file:" + fullPath;

    private static string CheckLocalFile(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || path.Any(char.IsControl))
        {
            throw Refused(PipelineStage.Probe, "invalid local path");
        }
        var fullPath = Path.GetFullPath(path);
        var file = new FileInfo(fullPath);
        if (!file.Exists)
        {
            throw Refused(PipelineStage.Probe, $"file not found: {fullPath}");
        }
        if (file.Length == 0)
        {
            throw Refused(PipelineStage.Probe, "empty file (0 bytes)");
        }
        return fullPath;
    }

    private static async Task<string?> SniffPlaylistAsync(string fullPath, CancellationToken cancellationToken)
    {
        var head = new byte[1024];
        await using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
        var read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return ContainerPolicy.SniffPlaylist(head.AsSpan(0, read));
    }

    private RecordingFailedException TooLong(string stage, string measured) => new(
        stage,
        string.Create(CultureInfo.InvariantCulture,
            $"recording is too long: {measured}, the limit is {_options.MaxDurationSeconds:0} s ({DecoderOptions.SectionName}:MaxDurationSeconds)"))
    {
        Retryable = false,
    };

    private static RecordingFailedException Refused(string stage, string reason) => new(stage, reason) { Retryable = false };

    /// <summary>The running ffmpeg behind an opened recording; disposing kills it if it is still decoding.</summary>
    private sealed class FfmpegDecodingAudio(AudioInfo info, StreamLayout layout, FfmpegProcess ffmpeg, FfmpegAudioDecoder decoder) : DecodingAudio(info)
    {
        private int _read;

        public override IAsyncEnumerable<PcmChunk> ReadAsync(CancellationToken cancellationToken) =>
            Interlocked.Exchange(ref _read, 1) == 0
                ? decoder.ReadAsync(Info, layout, ffmpeg, cancellationToken)
                : throw new InvalidOperationException("The samples of a decoding recording can be read once.");

        public override ValueTask DisposeAsync()
        {
            ffmpeg.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Decoding with {Binary}: {Version}")]
    private static partial void LogFfmpeg(ILogger logger, string binary, string version);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "Probed {Path}: {Format}, {DurationSeconds:0.00} s, {SampleRate} Hz, {Channels} channel(s)")]
    private static partial void LogProbed(ILogger logger, string path, string format, double durationSeconds, int sampleRate, int channels);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Refused {Path}: container {Format} is not an allowed audio format")]
    private static partial void LogRefused(ILogger logger, string path, string format);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Debug, Message = "Channels of {Path}: {Decision} (correlation {Correlation:0.000})")]
    private static partial void LogChannelDecision(ILogger logger, string path, string decision, double correlation);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "Decoded {Path}: {DurationSeconds:0.00} s of audio in {ElapsedMs:0} ms")]
    private static partial void LogDecoded(ILogger logger, string path, double durationSeconds, double elapsedMs);
}

/// <summary>What ffmpeg's output holds and how it becomes streams.</summary>
internal sealed record StreamLayout(int DecodedChannels, StreamPlan Plan)
{
    public static StreamLayout Mono { get; } = new(1, StreamPlan.Mono);
}

internal enum StreamPlan
{
    Mono,
    Split,
    SplitUnlessSame,
}

namespace EmotionBatch.Core;

/// <summary>What the decoder learned about a recording before using any of its samples.</summary>
/// <param name="Path">Full path of the local file.</param>
/// <param name="Format">The container as the decoder named it (ffmpeg's demuxer names, e.g. "mov,mp4,m4a,3gp,3g2,mj2").</param>
public sealed record AudioInfo(string Path, double DurationSeconds, int SampleRate, int Channels, string Format);

/// <summary>
/// A run of decoded 16 kHz samples of one channel stream. <see cref="StartSample"/> counts from the start of the
/// recording. A recording mixed to mono has one stream (<see cref="Channel"/> null); a recording decoded channel by
/// channel yields one chunk per channel for each stretch, channel 0 first, all with the same <see cref="StartSample"/>.
/// </summary>
public readonly record struct PcmChunk(long StartSample, ReadOnlyMemory<float> Samples)
{
    /// <summary>The channel of the recording these samples come from; null when all channels were mixed to one stream.</summary>
    public int? Channel { get; init; }
}

/// <summary>
/// Decodes any supported container/codec to float PCM at <see cref="SampleRate"/>, streamed in chunks: mixed to mono, or
/// one stream per channel (<see cref="ChannelMode"/>).
/// </summary>
public interface IAudioDecoder
{
    const int SampleRate = 16_000;

    /// <summary>
    /// Opens a recording and reads its description (container, length, first audio stream) before any sample is used:
    /// a refused recording throws <see cref="RecordingFailedException"/> with the reason; an accepted one decodes on.
    /// </summary>
    Task<DecodingAudio> OpenAsync(string path, CancellationToken cancellationToken);
}

/// <summary>A recording being decoded: what its container says, and its samples as they come. Disposing stops decoding.</summary>
public abstract class DecodingAudio(AudioInfo info) : IAsyncDisposable
{
    public AudioInfo Info { get; } = info;

    /// <summary>The samples in order, once; throws <see cref="RecordingFailedException"/> when decoding fails part-way.</summary>
    public abstract IAsyncEnumerable<PcmChunk> ReadAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}

/// <summary>One stretch of speech found by voice activity detection.</summary>
/// <param name="Samples">16 kHz mono samples of this utterance only (padding included).</param>
public sealed record Utterance(int Index, double StartSeconds, double EndSeconds, float[] Samples)
{
    public double DurationSeconds => EndSeconds - StartSeconds;

    /// <summary>The channel the utterance was heard on; null when the recording was mixed to one stream.</summary>
    public int? Channel { get; init; }

    /// <summary>The speech probability that started the utterance's detection; null when the segmenter has no threshold.</summary>
    public float? VadThreshold { get; init; }
}

/// <summary>How a multichannel recording becomes streams (<c>EmotionBatch:Decoder:Channels</c>).</summary>
public enum ChannelMode
{
    /// <summary>Two-channel recordings are split unless both channels carry the same signal (dual mono); others are mixed.</summary>
    Auto,

    /// <summary>Every channel is mixed into one mono stream.</summary>
    Mix,

    /// <summary>Every channel is its own stream (up to a limit), e.g. agent and customer of a telephone recording.</summary>
    Split,
}

/// <summary>Which voice activity threshold a pass over a recording uses.</summary>
public enum VadPass
{
    /// <summary>The configured threshold: every recording is heard this way first.</summary>
    Primary,

    /// <summary>
    /// The lower fallback threshold, for a recording in which the primary pass found no speech at all (soft or shouted
    /// emotional speech that the VAD does not take for speech at the primary threshold).
    /// </summary>
    Fallback,
}

/// <summary>Cuts a PCM stream into utterances as the stream arrives, so memory stays bounded by the longest utterance.</summary>
public interface ISpeechSegmenter
{
    IAsyncEnumerable<Utterance> SegmentAsync(IAsyncEnumerable<PcmChunk> pcm, VadPass pass, CancellationToken cancellationToken);
}

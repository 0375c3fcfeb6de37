namespace EmotionBatch.Core;

/// <summary>What the decoder learned about a recording before decoding it; decoding starts from it.</summary>
/// <param name="Path">Full path of the probed local file.</param>
/// <param name="Format">The container as the decoder's probe named it; decoding is pinned to it.</param>
public sealed record AudioInfo(string Path, double DurationSeconds, int SampleRate, int Channels, string Format);

/// <summary>A run of decoded 16 kHz mono samples. <see cref="StartSample"/> counts from the start of the recording.</summary>
public readonly record struct PcmChunk(long StartSample, ReadOnlyMemory<float> Samples);

/// <summary>Decodes any supported container/codec to mono float PCM at <see cref="SampleRate"/>, streamed in chunks.</summary>
public interface IAudioDecoder
{
    const int SampleRate = 16_000;

    /// <summary>Checks the file and reads its container, length and first audio stream; throws <see cref="RecordingFailedException"/> with the reason.</summary>
    Task<AudioInfo> ProbeAsync(string path, CancellationToken cancellationToken);

    /// <summary>Decodes a recording probed by <see cref="ProbeAsync"/>; taking the probe result means each file is probed once.</summary>
    IAsyncEnumerable<PcmChunk> DecodeAsync(AudioInfo probed, CancellationToken cancellationToken);
}

/// <summary>One stretch of speech found by voice activity detection.</summary>
/// <param name="Samples">16 kHz mono samples of this utterance only (padding included).</param>
public sealed record Utterance(int Index, double StartSeconds, double EndSeconds, float[] Samples)
{
    public double DurationSeconds => EndSeconds - StartSeconds;
}

/// <summary>Cuts a PCM stream into utterances as the stream arrives, so memory stays bounded by the longest utterance.</summary>
public interface ISpeechSegmenter
{
    IAsyncEnumerable<Utterance> SegmentAsync(IAsyncEnumerable<PcmChunk> pcm, CancellationToken cancellationToken);
}

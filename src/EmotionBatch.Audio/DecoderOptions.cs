using System.ComponentModel.DataAnnotations;

namespace EmotionBatch.Audio;

/// <summary>Settings of <see cref="FfmpegAudioDecoder"/>, bound from <c>EmotionBatch:Decoder</c>.</summary>
public sealed class DecoderOptions
{
    public const string SectionName = "EmotionBatch:Decoder";

    /// <summary>
    /// Recordings longer than this fail with a clear reason instead of tying up a worker for hours: checked on the
    /// probed length, and again while decoding for files whose headers understate it.
    /// </summary>
    [Range(1, 7 * 24 * 3600)]
    public double MaxDurationSeconds { get; set; } = 6 * 3600;

    /// <summary>Folder holding ffmpeg and ffprobe; empty means whatever is on PATH.</summary>
    public string? FfmpegFolder { get; set; }

    /// <summary>Length of each PCM chunk handed downstream; bounds the decoder's memory per recording.</summary>
    [Range(20, 10_000)]
    public int ChunkMilliseconds { get; set; } = 1000;
}

using System.ComponentModel.DataAnnotations;
using EmotionBatch.Core;

namespace EmotionBatch.Audio;

/// <summary>Settings of <see cref="FfmpegAudioDecoder"/>, bound from <c>EmotionBatch:Decoder</c>.</summary>
public sealed class DecoderOptions : IValidatableObject
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

    /// <summary>The most channels <see cref="ChannelMode.Split"/> decodes separately; a recording with more is refused with the reason.</summary>
    public const int MaxSplitChannels = 8;

    /// <summary>
    /// Mix (every channel into one stream), Split (each channel its own stream: agent and customer of a call centre's
    /// two-channel recording) or Auto: two-channel recordings are split unless both channels carry the same signal.
    /// </summary>
    public ChannelMode Channels { get; set; } = ChannelMode.Auto;

    /// <summary>
    /// Names of the channels of a split recording, in channel order (e.g. ["agent", "customer"]); written to the
    /// <c>speaker_role</c> column. Empty: roles stay null and the <c>channel</c> column tells the channels apart.
    /// </summary>
    public List<string> ChannelRoles { get; set; } = [];

    /// <summary>
    /// Line echo puts each party faintly on the other channel. An utterance of one channel whose energy is this many dB
    /// (or more) below another channel's over the same time is that party's echo, not speech of this channel, and is
    /// dropped. Real speakers on their own channels are within a few dB of each other.
    /// </summary>
    [Range(3, 60)]
    public double CrosstalkDecibels { get; set; } = 15;

    /// <summary>Length of each PCM chunk handed downstream; bounds the decoder's memory per recording.</summary>
    [Range(20, 10_000)]
    public int ChunkMilliseconds { get; set; } = 1000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ChannelRoles.Count > MaxSplitChannels)
        {
            yield return new ValidationResult(
                $"{SectionName}:ChannelRoles names {ChannelRoles.Count} channels; at most {MaxSplitChannels} are split", [nameof(ChannelRoles)]);
        }
        if (ChannelRoles.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult($"{SectionName}:ChannelRoles has an empty name; give every channel a role", [nameof(ChannelRoles)]);
        }
        if (ChannelRoles.Count != ChannelRoles.Distinct(StringComparer.Ordinal).Count())
        {
            yield return new ValidationResult($"{SectionName}:ChannelRoles names a role twice; roles must tell channels apart", [nameof(ChannelRoles)]);
        }
    }
}

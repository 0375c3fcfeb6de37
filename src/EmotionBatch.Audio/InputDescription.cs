using System.Globalization;
using System.Text.RegularExpressions;

namespace EmotionBatch.Audio;

/// <summary>
/// What ffmpeg prints about its input before decoding ("Input #0, mp3, from ...", "  Duration: 00:02:00.05, ...",
/// "  Stream #0:0: Audio: mp3, 44100 Hz, stereo, ..."), read so that one ffmpeg process both describes and decodes a
/// recording: a separate ffprobe start costs about 0.15 s of CPU per recording.
/// </summary>
internal sealed partial record InputDescription(string Format, double DurationSeconds, bool HasAudio, int SampleRate, int Channels)
{
    private const string InputPrefix = "Input #0, ";
    private const string DurationPrefix = "  Duration: ";
    private const string StreamPrefix = "  Stream #0:";

    private static readonly Dictionary<string, int> NamedLayouts = new(StringComparer.Ordinal)
    {
        ["mono"] = 1, ["stereo"] = 2, ["downmix"] = 2, ["2.1"] = 3, ["3.0"] = 3, ["3.0(back)"] = 3, ["4.0"] = 4, ["quad"] = 4,
        ["quad(side)"] = 4, ["3.1"] = 4, ["5.0"] = 5, ["5.0(side)"] = 5, ["4.1"] = 5, ["5.1"] = 6, ["5.1(side)"] = 6, ["6.0"] = 6,
        ["6.0(front)"] = 6, ["hexagonal"] = 6, ["6.1"] = 7, ["6.1(back)"] = 7, ["6.1(front)"] = 7, ["7.0"] = 7, ["7.0(front)"] = 7,
        ["7.1"] = 8, ["7.1(wide)"] = 8, ["7.1(wide-side)"] = 8, ["octagonal"] = 8,
    };

    public static bool IsDescriptionLine(string message) =>
        message.StartsWith(InputPrefix, StringComparison.Ordinal)
        || message.StartsWith(DurationPrefix, StringComparison.Ordinal)
        || message.StartsWith(StreamPrefix, StringComparison.Ordinal);

    /// <summary>Null when ffmpeg never described an input (it could not open or recognise the file).</summary>
    public static InputDescription? Parse(IReadOnlyList<string> lines)
    {
        var input = lines.FirstOrDefault(l => l.StartsWith(InputPrefix, StringComparison.Ordinal));
        if (input is null)
        {
            return null;
        }
        // "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:...':": demuxer names never contain ", from '".
        var from = input.IndexOf(", from '", InputPrefix.Length, StringComparison.Ordinal);
        var format = from < 0 ? "unknown" : input[InputPrefix.Length..from];

        var duration = 0d;
        if (lines.FirstOrDefault(l => l.StartsWith(DurationPrefix, StringComparison.Ordinal)) is { } durationLine
            && DurationPattern().Match(durationLine) is { Success: true } d)
        {
            duration = int.Parse(d.Groups[1].Value, CultureInfo.InvariantCulture) * 3600
                + int.Parse(d.Groups[2].Value, CultureInfo.InvariantCulture) * 60
                + double.Parse(d.Groups[3].Value, CultureInfo.InvariantCulture);
        }

        var audio = lines.FirstOrDefault(l => l.StartsWith(StreamPrefix, StringComparison.Ordinal) && l.Contains(": Audio: ", StringComparison.Ordinal));
        var sampleRate = 0;
        var channels = 0;
        if (audio is not null && RatePattern().Match(audio) is { Success: true } r)
        {
            sampleRate = int.Parse(r.Groups[1].Value, CultureInfo.InvariantCulture);
            var layout = r.Groups[2].Value.Trim();
            channels = NamedLayouts.TryGetValue(layout, out var named) ? named
                : ChannelsPattern().Match(layout) is { Success: true } c ? int.Parse(c.Groups[1].Value, CultureInfo.InvariantCulture)
                : 0;
        }
        return new InputDescription(format, duration, audio is not null, sampleRate, channels);
    }

    [GeneratedRegex(@"^  Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@", (\d+) Hz, ([^,]+)")]
    private static partial Regex RatePattern();

    [GeneratedRegex(@"^(\d+) channels(?: \([A-Za-z0-9+]*\))?$")]
    private static partial Regex ChannelsPattern();
}

/// <summary>One stderr line of ffmpeg run with <c>-loglevel level+...</c>: "[mp3 @ 0x55d0] [error] Header missing".</summary>
internal static class FfmpegLogLine
{
    private static readonly HashSet<string> Levels = new(StringComparer.Ordinal)
    {
        "quiet", "panic", "fatal", "error", "warning", "info", "verbose", "debug", "trace",
    };

    /// <summary>The level tag (null when the line has none) and the message with context and level prefixes removed.</summary>
    public static (string? Level, string Message) Split(string line)
    {
        var rest = line.AsSpan();
        string? level = null;
        // Prefixes come as "[context @ 0x...] " groups, then "[level] "; the message keeps its own indentation.
        while (level is null && rest.StartsWith("[") && rest.IndexOf("] ") is var close and > 0)
        {
            var tag = rest[1..close].ToString();
            if (Levels.Contains(tag))
            {
                level = tag;
            }
            else if (!tag.Contains(" @ ", StringComparison.Ordinal))
            {
                break;
            }
            rest = rest[(close + 2)..];
        }
        return level is null ? (null, line) : (level, rest.ToString());
    }

    public static bool IsInformational(string level) => level is "info" or "verbose" or "debug" or "trace";
}

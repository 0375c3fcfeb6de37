using System.Globalization;
using System.Text.RegularExpressions;

namespace EmotionBatch.Audio;

/// <summary>
/// Which ffmpeg builds the decoder can read: FFmpeg 5.0 and later (libavformat 59+). Judged by the library version
/// because static and distribution builds often print a git snapshot instead of a release number.
/// </summary>
public static partial class FfmpegVersion
{
    public const int MinimumLibavformatMajor = 59;

    /// <summary>Null when <paramref name="versionOutput"/> (of <c>ffmpeg -version</c>) names a supported build, else why not.</summary>
    public static string? Problem(string binary, string versionOutput)
    {
        var match = LibavformatLine().Match(versionOutput);
        if (!match.Success)
        {
            return $"'{binary} -version' did not report a libavformat version; is it ffmpeg? Set {DecoderOptions.SectionName}:FfmpegFolder to a folder holding FFmpeg 5.0 or newer.";
        }
        var major = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        if (major < MinimumLibavformatMajor)
        {
            return $"{binary} is too old ({Banner(versionOutput)}; libavformat {major}.{match.Groups[2].Value}): EmotionBatch reads the input description " +
                $"of FFmpeg 5.0 or newer (libavformat {MinimumLibavformatMajor}+). Install a newer ffmpeg or set {DecoderOptions.SectionName}:FfmpegFolder.";
        }
        return null;
    }

    /// <summary>The first line of <c>ffmpeg -version</c>: "ffmpeg version 5.1.9-0+deb12u1 Copyright ...".</summary>
    public static string Banner(string versionOutput) => versionOutput.Split('\n', 2)[0].Trim();

    [GeneratedRegex(@"^libavformat\s+(\d+)\.\s*(\d+)\.", RegexOptions.Multiline)]
    private static partial Regex LibavformatLine();
}

using System.Text;

namespace EmotionBatch.Audio;

/// <summary>
/// Which demuxers may touch a recording. Playlist-like demuxers (HLS, concat, DASH...) open further URLs or files named
/// inside the input, so a crafted upload could read local files or reach the network; only plain audio containers pass.
/// </summary>
internal static class ContainerPolicy
{
    /// <summary>ffmpeg demuxer short names; a demuxer whose name list contains one of these matches (e.g. "mov,mp4,m4a,3gp,3g2,mj2").</summary>
    public static readonly IReadOnlyList<string> AllowedDemuxers =
        ["wav", "w64", "mp3", "flac", "ogg", "mov", "aac", "matroska", "aiff", "caf", "amr"];

    /// <summary>For ffmpeg's <c>-format_whitelist</c>: nothing outside it is even opened.</summary>
    public static string FormatWhitelist { get; } = string.Join(',', AllowedDemuxers);

    /// <summary>Demuxers that follow references to other inputs; named as playlists in refusal reasons.</summary>
    private static readonly HashSet<string> ReferencingDemuxers = new(StringComparer.OrdinalIgnoreCase)
    {
        "hls", "applehttp", "concat", "ffconcat", "dash", "webm_dash_manifest", "imf", "sdp", "rtsp", "rtp", "image2", "pls", "smil", "m3u",
    };

    public static bool IsAllowed(string formatName) =>
        formatName.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Any(name => AllowedDemuxers.Contains(name, StringComparer.OrdinalIgnoreCase));

    public static string RefusalReason(string formatName)
    {
        var isPlaylist = formatName.Split(',', StringSplitOptions.TrimEntries).Any(ReferencingDemuxers.Contains);
        return isPlaylist
            ? $"unsupported container '{formatName}' (playlists are refused)"
            : $"unsupported container '{formatName}' (allowed: {string.Join(", ", AllowedDemuxers)})";
    }

    /// <summary>
    /// Recognises text playlists from their first bytes, before any ffmpeg runs, so the reason names what the file is.
    /// ffmpeg's own whitelist refuses them anyway; this only makes the reason precise.
    /// </summary>
    public static string? SniffPlaylist(ReadOnlySpan<byte> head)
    {
        // The UTF-8 byte-order mark; a "\xEF"u8 literal would encode U+00EF instead.
        ReadOnlySpan<byte> byteOrderMark = [0xEF, 0xBB, 0xBF];
        if (head.StartsWith(byteOrderMark))
        {
            head = head[3..];
        }
        var start = 0;
        while (start < head.Length && head[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }
        var text = Encoding.ASCII.GetString(head[start..Math.Min(head.Length, start + 512)]);
        return text switch
        {
            _ when text.StartsWith("#EXTM3U", StringComparison.OrdinalIgnoreCase) => "hls",
            _ when text.StartsWith("ffconcat", StringComparison.OrdinalIgnoreCase) => "concat",
            _ when text.StartsWith("[playlist]", StringComparison.OrdinalIgnoreCase) => "pls",
            _ when text.StartsWith("<?xml", StringComparison.Ordinal) && text.Contains("<MPD", StringComparison.Ordinal) => "dash",
            _ when text.StartsWith("<MPD", StringComparison.Ordinal) => "dash",
            _ when text.StartsWith("<smil", StringComparison.OrdinalIgnoreCase) => "smil",
            _ => null,
        };
    }
}

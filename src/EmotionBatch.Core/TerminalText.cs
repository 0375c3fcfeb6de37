using System.Globalization;
using System.Text;

namespace EmotionBatch.Core;

/// <summary>
/// Text from recordings (file names, blob names, ffmpeg messages) made safe for a terminal or a log line: control
/// characters (ESC sequences could recolour or rewrite the screen, a line break could forge a log line) and the
/// bidirectional overrides that reorder what is shown become visible escapes such as <c>\x1b</c>.
/// </summary>
public static class TerminalText
{
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(NeedsEscape))
        {
            return text ?? string.Empty;
        }
        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!NeedsEscape(c))
            {
                builder.Append(c);
            }
            else if (c <= 0xFF)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }
        return builder.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';
}

using System.Diagnostics;
using System.Globalization;

namespace EmotionBatch.Testing;

/// <summary>
/// Makes test recordings with the ffmpeg on PATH, so tests need no binary fixtures. The codec follows the file extension:
/// .wav PCM16, .mp3 MP3, .flac FLAC, .ogg/.opus Opus, .m4a AAC, .mka FLAC in Matroska.
/// </summary>
public static class TestAudio
{
    /// <summary>A sine tone.</summary>
    public static Task<string> ToneAsync(
        string path,
        double seconds,
        double frequencyHz = 440,
        int sampleRate = 44_100,
        int channels = 1,
        double amplitude = 0.5,
        CancellationToken cancellationToken = default) =>
        FromLavfiAsync(path, $"sine=frequency={F(frequencyHz)}:sample_rate={sampleRate}:duration={F(seconds)},volume={F(amplitude / 0.125)}", sampleRate, channels, cancellationToken);

    /// <summary>Digital silence (all-zero samples).</summary>
    public static Task<string> SilenceAsync(string path, double seconds, int sampleRate = 16_000, int channels = 1, CancellationToken cancellationToken = default) =>
        FromLavfiAsync(path, $"anullsrc=sample_rate={sampleRate}:channel_layout=mono,atrim=duration={F(seconds)}", sampleRate, channels, cancellationToken);

    /// <summary>Re-encodes <paramref name="input"/> into the format that <paramref name="output"/>'s extension names.</summary>
    public static async Task<string> ConvertAsync(string input, string output, int? sampleRate = null, int? channels = null, CancellationToken cancellationToken = default)
    {
        List<string> args = ["-i", input];
        AddShape(args, sampleRate, channels);
        args.AddRange(CodecArguments(output));
        args.Add(output);
        await RunFfmpegAsync(args, cancellationToken).ConfigureAwait(false);
        return output;
    }

    /// <summary>Plays <paramref name="input"/> <paramref name="times"/> times back to back, with no gap.</summary>
    public static async Task<string> LoopAsync(string input, string output, int times, CancellationToken cancellationToken = default)
    {
        List<string> args = ["-stream_loop", (times - 1).ToString(CultureInfo.InvariantCulture), "-i", input];
        args.AddRange(CodecArguments(output));
        args.Add(output);
        await RunFfmpegAsync(args, cancellationToken).ConfigureAwait(false);
        return output;
    }

    /// <summary>Runs ffmpeg with the given arguments (plus -y, -nostdin, quiet logging); throws with its stderr on failure.</summary>
    public static async Task RunFfmpegAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo("ffmpeg")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-hide_banner", "-nostdin", "-loglevel", "error", "-y", .. arguments])
        {
            startInfo.ArgumentList.Add(argument);
        }
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("ffmpeg did not start");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"ffmpeg {string.Join(' ', startInfo.ArgumentList)} failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}");
        }
        await stdout.ConfigureAwait(false);
    }

    private static async Task<string> FromLavfiAsync(string path, string graph, int sampleRate, int channels, CancellationToken cancellationToken)
    {
        List<string> args = ["-f", "lavfi", "-i", graph];
        AddShape(args, sampleRate, channels);
        args.AddRange(CodecArguments(path));
        args.Add(path);
        await RunFfmpegAsync(args, cancellationToken).ConfigureAwait(false);
        return path;
    }

    private static void AddShape(List<string> args, int? sampleRate, int? channels)
    {
        if (sampleRate is { } rate)
        {
            args.AddRange(["-ar", rate.ToString(CultureInfo.InvariantCulture)]);
        }
        if (channels is { } count)
        {
            args.AddRange(["-ac", count.ToString(CultureInfo.InvariantCulture)]);
        }
    }

    private static string[] CodecArguments(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".wav" => ["-c:a", "pcm_s16le"],
        ".mp3" => ["-c:a", "libmp3lame", "-b:a", "96k"],
        ".flac" => ["-c:a", "flac"],
        ".ogg" or ".opus" => ["-c:a", "libopus", "-b:a", "48k"],
        ".m4a" or ".mp4" => ["-c:a", "aac", "-b:a", "96k"],
        ".mka" => ["-c:a", "flac"],
        var other => throw new ArgumentException($"No codec chosen for '{other}' files.", nameof(path)),
    };

    private static string F(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}

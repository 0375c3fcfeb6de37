using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace EmotionBatch.Benchmarking;

/// <summary>One generated recording and how much audio it holds.</summary>
public sealed record BenchRecording(string Path, double Seconds, string Format);

/// <summary>
/// Generates the bench's recordings with espeak-ng and ffmpeg only, so every machine that ran scripts/setup.sh gets the
/// same audio: fixed sentences at seeded rates and pitches, joined by seeded pauses (some shorter than the VAD's
/// minimum silence, so utterances of one to several sentences occur), over a faint seeded pink-noise floor, looped to
/// length and encoded in the formats archives commonly hold.
/// </summary>
public sealed class BenchCorpus
{
    /// <summary>Used by the text-encoder stage and as transcripts when no Whisper model is given.</summary>
    public static readonly IReadOnlyList<string> Sentences =
    [
        "I have been waiting on hold for forty minutes and nobody has called me back.",
        "Thank you so much, that is exactly what I needed today.",
        "The parcel arrived yesterday but the box was completely crushed.",
        "Could you please read me the reference number once more?",
        "Honestly I do not know what else I can do at this point.",
        "That's wonderful news, my whole family will be delighted.",
        "We moved house last spring and the bills still go to the old address.",
        "No, that is not what I was told when I signed the contract.",
        "Okay.",
        "Let me check the calendar and get back to you before Friday afternoon.",
        "It has been a long week and I am just tired of repeating myself.",
        "Sure, go ahead.",
    ];

    private static readonly double[] Pauses = [0.2, 0.25, 0.5, 0.8, 1.2, 2.5];
    private static readonly (string Extension, string[] Codec)[] Formats =
    [
        (".mp3", ["-c:a", "libmp3lame", "-b:a", "64k", "-ar", "22050"]),
        (".ogg", ["-c:a", "libopus", "-b:a", "32k", "-ar", "16000"]),
        (".flac", ["-c:a", "flac", "-ar", "16000"]),
        (".m4a", ["-c:a", "aac", "-b:a", "64k", "-ar", "44100"]),
    ];

    private readonly string _folder;
    private readonly int _seed;

    public BenchCorpus(string folder, int seed = 17)
    {
        _folder = folder;
        _seed = seed;
        Directory.CreateDirectory(Path.Combine(_folder, "parts"));
    }

    /// <summary><paramref name="count"/> recordings sharing <paramref name="totalSeconds"/>, cycling through mp3, opus, flac and aac.</summary>
    public async Task<IReadOnlyList<BenchRecording>> CreateRecordingsAsync(string subfolder, int count, double totalSeconds, CancellationToken cancellationToken)
    {
        var target = Path.Combine(_folder, subfolder);
        Directory.CreateDirectory(target);
        var each = totalSeconds / count;
        var recordings = new List<BenchRecording>(count);
        for (var i = 0; i < count; i++)
        {
            var block = await CreateBlockAsync(i, cancellationToken).ConfigureAwait(false);
            var (extension, codec) = Formats[i % Formats.Length];
            var path = Path.Combine(target, $"call-{i:D2}{extension}");
            await EncodeLoopAsync(block, path, each, codec, i, cancellationToken).ConfigureAwait(false);
            recordings.Add(new BenchRecording(path, each, extension.TrimStart('.')));
        }
        return recordings;
    }

    /// <summary>One long recording, FLAC at the fastest setting: cheap to make even at several hours.</summary>
    public async Task<BenchRecording> CreateLongRecordingAsync(string name, double seconds, CancellationToken cancellationToken)
    {
        var block = await CreateBlockAsync(0, cancellationToken).ConfigureAwait(false);
        var path = Path.Combine(_folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await EncodeLoopAsync(block, path, seconds, ["-c:a", "flac", "-compression_level", "0", "-ar", "16000"], 0, cancellationToken).ConfigureAwait(false);
        return new BenchRecording(path, seconds, "flac");
    }

    /// <summary>About a minute of speech and pauses as 16 kHz mono PCM; the seed of block <paramref name="index"/> fixes its order.</summary>
    private async Task<string> CreateBlockAsync(int index, CancellationToken cancellationToken)
    {
        var block = Path.Combine(_folder, "parts", $"block-{_seed}-{index}.wav");
        if (File.Exists(block))
        {
            return block;
        }
        var random = new Random(_seed * 1000 + index);
        var list = new StringBuilder();
        var seconds = 0d;
        while (seconds < 60)
        {
            var sentence = random.Next(Sentences.Count);
            var rate = 140 + random.Next(6) * 10;
            var pitch = 30 + random.Next(5) * 10;
            var speech = await SpeakAsync(sentence, rate, pitch, cancellationToken).ConfigureAwait(false);
            var pause = Pauses[random.Next(Pauses.Length)];
            var silence = await SilenceAsync(pause, cancellationToken).ConfigureAwait(false);
            list.Append("file '").Append(speech).Append("'\n");
            list.Append("file '").Append(silence).Append("'\n");
            seconds += pause + Sentences[sentence].Length / 14.0;
        }
        var listPath = Path.Combine(_folder, "parts", $"block-{_seed}-{index}.txt");
        await File.WriteAllTextAsync(listPath, list.ToString(), cancellationToken).ConfigureAwait(false);
        await RunAsync("ffmpeg", ["-f", "concat", "-safe", "0", "-i", listPath, "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", block], cancellationToken)
            .ConfigureAwait(false);
        return block;
    }

    private async Task EncodeLoopAsync(string block, string path, double seconds, string[] codec, int noiseSeed, CancellationToken cancellationToken)
    {
        // Finished files are kept in a reused --work folder; the rename means a file there is always complete.
        if (File.Exists(path))
        {
            return;
        }
        var partial = Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + ".partial" + Path.GetExtension(path));
        List<string> args =
        [
            "-stream_loop", "-1", "-i", block,
            "-f", "lavfi", "-i", $"anoisesrc=color=pink:amplitude=0.004:seed={noiseSeed + _seed}:sample_rate=16000",
            "-filter_complex", "[0:a][1:a]amix=inputs=2:duration=first:normalize=0[out]",
            "-map", "[out]", "-ac", "1",
            "-t", seconds.ToString("0.###", CultureInfo.InvariantCulture),
            .. codec,
            partial,
        ];
        await RunAsync("ffmpeg", args, cancellationToken).ConfigureAwait(false);
        File.Move(partial, path, overwrite: true);
    }

    private async Task<string> SpeakAsync(int sentence, int rate, int pitch, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_folder, "parts", $"say-{sentence}-{rate}-{pitch}.wav");
        if (!File.Exists(path))
        {
            var raw = path + ".espeak.wav";
            await RunAsync("espeak-ng", ["-v", "en-us", "-s", rate.ToString(CultureInfo.InvariantCulture), "-p", pitch.ToString(CultureInfo.InvariantCulture), "-w", raw, Sentences[sentence]], cancellationToken)
                .ConfigureAwait(false);
            await RunAsync("ffmpeg", ["-i", raw, "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", path], cancellationToken).ConfigureAwait(false);
            File.Delete(raw);
        }
        return path;
    }

    private async Task<string> SilenceAsync(double seconds, CancellationToken cancellationToken)
    {
        var text = seconds.ToString("0.###", CultureInfo.InvariantCulture);
        var path = Path.Combine(_folder, "parts", $"pause-{text}.wav");
        if (!File.Exists(path))
        {
            await RunAsync("ffmpeg", ["-f", "lavfi", "-i", $"anullsrc=sample_rate=16000:channel_layout=mono", "-t", text, "-c:a", "pcm_s16le", path], cancellationToken)
                .ConfigureAwait(false);
        }
        return path;
    }

    private static async Task RunAsync(string program, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        IEnumerable<string> all = program == "ffmpeg" ? ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", .. arguments] : arguments;
        foreach (var argument in all)
        {
            startInfo.ArgumentList.Add(argument);
        }
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {program}");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed (exit code {process.ExitCode}): {await stderr.ConfigureAwait(false)}");
        }
        await stdout.ConfigureAwait(false);
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using EmotionBatch.Inference;
using Microsoft.ML.OnnxRuntime;

namespace EmotionBatch.Benchmarking;

/// <summary>
/// <c>bench</c>: generates a fixed set of recordings, times every stage alone and the whole pipeline, and prints real-time
/// factors, utterances per second, peak memory and the ratios that show where time goes. No timing is asserted anywhere.
/// </summary>
public static class BenchCommand
{
    private const string MemoryLinePrefix = "MEMORY ";

    /// <summary>The bench's options and action on <paramref name="command"/> (the <c>emotionbatch-bench</c> root command).</summary>
    public static Command Configure(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var bundle = new Option<string>("--bundle") { Description = "Model bundle folder.", DefaultValueFactory = _ => "models/default" };
        var minutes = new Option<double>("--minutes") { Description = "Minutes of generated audio, shared by the recordings.", DefaultValueFactory = _ => 8 };
        var recordings = new Option<int>("--recordings") { Description = "Number of generated recordings (mp3, opus, flac, aac in turn).", DefaultValueFactory = _ => 4 };
        var whisper = new Option<string?>("--whisper-model") { Description = "Whisper ggml model; without it the ASR stage is skipped and the pipeline runs without text." };
        var pack = new Option<double>("--pack-seconds") { Description = "Seconds of speech per Whisper call in the packed ASR row and the pipeline (0 = one call per utterance).", DefaultValueFactory = _ => Transcription.PackedWindows.WhisperWindowSeconds };
        var whisperTokens = new Option<int>("--whisper-max-tokens") { Description = "Tokens per segment Whisper may decode in the bench (random-weight models would run to the context limit).", DefaultValueFactory = _ => 24 };
        var noPerUtterance = new Option<bool>("--no-per-utterance-asr") { Description = "Skip timing ASR with one call per utterance (slow with large models); it is estimated from the cost per encoder run instead." };
        var noFlash = new Option<bool>("--no-flash-attention") { Description = "Run Whisper without flash attention (EmotionBatch:Transcription:FlashAttention = false)." };
        var language = new Option<string>("--whisper-language") { Description = "Whisper language: auto (one more encoder pass per call) or a code such as en.", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads and Whisper threads; 0 = one per CPU.", DefaultValueFactory = _ => 0 };
        var repeat = new Option<int>("--repeat") { Description = "Runs per stage; the table shows the median and the best.", DefaultValueFactory = _ => 3 };
        var rounds = new Option<int>("--overhead-rounds") { Description = "Interleaved rounds timing the C# wrapper against raw ONNX Runtime (inference rows show their median).", DefaultValueFactory = _ => 15 };
        var batch = new Option<int>("--batch-size") { Description = "Utterances per inference batch.", DefaultValueFactory = _ => 16 };
        var vad = new Option<string>("--vad-model") { Description = "Silero VAD ONNX file.", DefaultValueFactory = _ => Audio.SileroVadModel.DefaultRelativePath };
        var lanes = new Option<int>("--vad-lanes") { Description = "Silero VAD lanes per batch (1 = one window after another).", DefaultValueFactory = _ => new Audio.VadOptions().Lanes };
        var work = new Option<string?>("--work") { Description = "Folder for generated audio and outputs (default: a new temporary folder, removed afterwards)." };
        var memory = new Option<bool>("--memory") { Description = "Peak memory of decode + VAD + emotion on a 1-minute and a long recording, each in a fresh process." };
        var hours = new Option<double>("--memory-hours") { Description = "Length of the long recording in --memory mode.", DefaultValueFactory = _ => 3 };
        var acoustic = new Option<string?>("--acoustic-onnx") { Description = "Time only this acoustic-encoder graph (e.g. a HuBERT-large export) on --utterances of --utterance-seconds." };
        var utterances = new Option<int>("--utterances") { Description = "Utterances for --acoustic-onnx.", DefaultValueFactory = _ => 10 };
        var utteranceSeconds = new Option<double>("--utterance-seconds") { Description = "Seconds per utterance for --acoustic-onnx.", DefaultValueFactory = _ => 4 };
        var profile = new Option<string?>("--profile") { Description = "With --acoustic-onnx: record ONNX Runtime's per-node profile (CPU) to a file starting with this path and print where the time goes; the timings then include the profiler's cost." };
        var spinning = new Option<bool>("--spinning") { Description = "Let idle ONNX Runtime threads spin (EmotionBatch:Model:IntraOpSpinning)." };
        var ffmpeg = new Option<string?>("--ffmpeg-folder") { Description = "Folder holding the ffmpeg to decode with (EmotionBatch:Decoder:FfmpegFolder); default: the one on PATH." };
        var child = new Option<string?>("--memory-child") { Hidden = true };

        foreach (var option in new Option[] { bundle, minutes, recordings, whisper, pack, whisperTokens, noPerUtterance, noFlash, language, threads, repeat, rounds, batch, vad, lanes, work, memory, hours, acoustic, utterances, utteranceSeconds, profile, spinning, ffmpeg, child })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new BenchSettings
            {
                BundlePath = parse.GetValue(bundle)!,
                Minutes = parse.GetValue(minutes),
                Recordings = Math.Max(1, parse.GetValue(recordings)),
                WhisperModel = parse.GetValue(whisper),
                PackSeconds = Math.Clamp(parse.GetValue(pack), 0, Transcription.PackedWindows.WhisperWindowSeconds),
                WhisperMaxTokens = Math.Clamp(parse.GetValue(whisperTokens), 1, 224),
                MeasurePerUtteranceAsr = !parse.GetValue(noPerUtterance),
                FlashAttention = !parse.GetValue(noFlash),
                WhisperLanguage = parse.GetValue(language)!,
                Threads = parse.GetValue(threads),
                Repeat = Math.Max(1, parse.GetValue(repeat)),
                OverheadRounds = Math.Max(1, parse.GetValue(rounds)),
                BatchSize = Math.Max(1, parse.GetValue(batch)),
                VadModel = parse.GetValue(vad)!,
                VadLanes = Math.Clamp(parse.GetValue(lanes), 1, 64),
                WorkFolder = parse.GetValue(work),
                Spinning = parse.GetValue(spinning),
                FfmpegFolder = parse.GetValue(ffmpeg) is { Length: > 0 } ffmpegFolder ? Path.GetFullPath(ffmpegFolder) : null,
            };
            if (parse.GetValue(profile) is { } profilePrefix && (string.IsNullOrWhiteSpace(profilePrefix) || parse.GetValue(acoustic) is null))
            {
                Console.Error.WriteLine("bench: --profile takes a path prefix (e.g. /tmp/acoustic) and goes with --acoustic-onnx: it profiles that one graph.");
                return 2;
            }
            if (parse.GetValue(acoustic) is { } graph)
            {
                return RunAcousticOnly(graph, settings, parse.GetValue(utterances), parse.GetValue(utteranceSeconds), parse.GetValue(profile), Console.Out);
            }
            if (!Directory.Exists(settings.BundlePath))
            {
                Console.Error.WriteLine($"bench: no model bundle at {Path.GetFullPath(settings.BundlePath)}; pass --bundle (e.g. models/untrained).");
                return 2;
            }
            if (parse.GetValue(child) is { } file)
            {
                return await RunMemoryChildAsync(file, settings, cancellationToken).ConfigureAwait(false);
            }

            var folder = settings.WorkFolder ?? Path.Combine(Path.GetTempPath(), "emotionbatch-bench-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(folder);
            try
            {
                return parse.GetValue(memory)
                    ? await RunMemoryAsync(folder, settings, parse.GetValue(hours), Console.Out, cancellationToken).ConfigureAwait(false)
                    : await new StageBench(settings, Console.Out).RunAsync(folder, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (settings.WorkFolder is null)
                {
                    try { Directory.Delete(folder, recursive: true); } catch (IOException) { /* temporary folder; best effort */ }
                }
            }
        });
        return command;
    }

    /// <summary>Parent side of --memory: makes both recordings, runs each in a fresh process, compares the peaks.</summary>
    private static async Task<int> RunMemoryAsync(string folder, BenchSettings settings, double hours, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine($"machine: {MachineInfo.Describe()}");
        output.WriteLine($"load average at start: {MachineInfo.LoadAverage()}");
        var corpus = new BenchCorpus(folder, settings.Seed);
        var generate = Stopwatch.StartNew();
        var shortRecording = await corpus.CreateLongRecordingAsync("memory-short/recording.flac", 60, cancellationToken).ConfigureAwait(false);
        var longRecording = await corpus.CreateLongRecordingAsync("memory-long/recording.flac", hours * 3600, cancellationToken).ConfigureAwait(false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"generated 60 s and {hours * 3600:0} s FLAC recordings in {generate.Elapsed.TotalSeconds:0} s ({new FileInfo(longRecording.Path).Length / (1024.0 * 1024):0} MiB)"));

        var results = new List<(BenchRecording Recording, Dictionary<string, string> Values)>();
        foreach (var recording in new[] { shortRecording, longRecording })
        {
            // The source lists folders, so each recording sits alone in its own.
            var values = await RunChildAsync(Path.GetDirectoryName(recording.Path)!, settings, cancellationToken).ConfigureAwait(false);
            results.Add((recording, values));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{recording.Seconds,8:0} s audio: peak resident {BenchReport.Mib(long.Parse(values["peak_bytes"], CultureInfo.InvariantCulture)),9}, " +
                $"before the host {BenchReport.Mib(long.Parse(values["startup_bytes"], CultureInfo.InvariantCulture)),9}, " +
                $"pass {double.Parse(values["seconds"], CultureInfo.InvariantCulture):0.0} s " +
                $"({recording.Seconds / double.Parse(values["seconds"], CultureInfo.InvariantCulture):0.0}x real time), {values["utterances"]} utterances, load {values["load"]}"));
        }
        var ratio = double.Parse(results[1].Values["peak_bytes"], CultureInfo.InvariantCulture) / double.Parse(results[0].Values["peak_bytes"], CultureInfo.InvariantCulture);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak memory, long / 1-minute recording: {ratio:0.00}x"));
        return 0;
    }

    private static async Task<Dictionary<string, string>> RunChildAsync(string file, BenchSettings settings, CancellationToken cancellationToken)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot locate this executable");
        var startInfo = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // Started as `dotnet emotionbatch-bench.dll`: the child needs the assembly too.
            startInfo.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }
        string[] arguments =
        [
            "--memory-child", file, "--bundle", Path.GetFullPath(settings.BundlePath), "--vad-model", Path.GetFullPath(settings.VadModel),
            "--threads", settings.Threads.ToString(CultureInfo.InvariantCulture), "--batch-size", settings.BatchSize.ToString(CultureInfo.InvariantCulture),
            "--vad-lanes", settings.VadLanes.ToString(CultureInfo.InvariantCulture),
            .. settings.Spinning ? ["--spinning"] : Array.Empty<string>(),
            .. settings.FfmpegFolder is { } ffmpegFolder ? ["--ffmpeg-folder", ffmpegFolder] : Array.Empty<string>(),
        ];
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {self}");
        var stdout = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        var line = stdout.Split('\n').LastOrDefault(l => l.StartsWith(MemoryLinePrefix, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"memory child for {file} failed (exit code {process.ExitCode}): {stdout}");
        }
        return line[MemoryLinePrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1]);
    }

    /// <summary>Child side of --memory: one pipeline pass over a folder of one recording in this fresh process, then its high-water mark.</summary>
    private static async Task<int> RunMemoryChildAsync(string file, BenchSettings settings, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(Path.GetTempPath(), "emotionbatch-bench-child-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var startup = MachineInfo.PeakResidentBytes();
            using var host = BenchHost.Create(settings, file, Path.Combine(folder, "out"), Path.Combine(folder, "work"));
            var result = await host.RunPassAsync(cancellationToken).ConfigureAwait(false);
            if (result.Completed != 1)
            {
                Console.Error.WriteLine($"bench: the pipeline did not complete {file}");
                return 1;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{MemoryLinePrefix}peak_bytes={MachineInfo.PeakResidentBytes()} startup_bytes={startup} seconds={result.Elapsed.TotalSeconds:0.000} " +
                $"utterances={result.Utterances} load={MachineInfo.LoadAverage().Replace(' ', '/')}"));
            return 0;
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { /* temporary folder; best effort */ }
        }
    }

    /// <summary>
    /// One acoustic-encoder graph alone, on seeded pseudo-speech: dense encoders cost the same whatever the signal, so
    /// this gives a large encoder's production cost without a bundle built around it.
    /// </summary>
    private static int RunAcousticOnly(string graph, BenchSettings settings, int count, double seconds, string? profilePrefix, TextWriter output)
    {
        output.WriteLine($"machine: {MachineInfo.Describe()}");
        output.WriteLine($"load average at start: {MachineInfo.LoadAverage()}");
        if (profilePrefix is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(profilePrefix))!);
        }
        var before = MachineInfo.PeakResidentBytes();
        var load = Stopwatch.StartNew();
        using var session = new SessionFactory(new ModelOptions { IntraOpThreads = settings.EffectiveThreads, IntraOpSpinning = settings.Spinning, ProfilePrefix = profilePrefix }).CreateSession(graph);
        var loadSeconds = load.Elapsed.TotalSeconds;
        var afterLoad = MachineInfo.PeakResidentBytes();
        var names = session.InputMetadata.Keys.ToArray();
        var outputs = session.OutputMetadata.Keys.ToArray();

        var samples = (int)(seconds * Core.IAudioDecoder.SampleRate);
        var random = new Random(settings.Seed);
        var batches = new List<(OrtValue Waveform, OrtValue Lengths)>();
        for (var start = 0; start < count; start += settings.BatchSize)
        {
            var b = Math.Min(settings.BatchSize, count - start);
            var wave = new float[b * samples];
            for (var i = 0; i < wave.Length; i++)
            {
                var t = i % samples / (double)Core.IAudioDecoder.SampleRate;
                wave[i] = (float)(0.2 * Math.Sin(2 * Math.PI * 140 * t) * (0.6 + 0.4 * Math.Sin(2 * Math.PI * 3 * t)) + 0.02 * (random.NextDouble() - 0.5));
            }
            var lengths = Enumerable.Repeat((long)samples, b).ToArray();
            batches.Add((OrtValue.CreateTensorValueFromMemory(wave, [b, samples]), OrtValue.CreateTensorValueFromMemory(lengths, [b])));
        }

        using var runOptions = new RunOptions();
        var warm = Stopwatch.StartNew();
        using (session.Run(runOptions, names, [batches[0].Waveform, batches[0].Lengths], outputs))
        {
        }
        var warmSeconds = warm.Elapsed.TotalSeconds;
        var times = new List<double>();
        for (var rep = 0; rep < settings.Repeat; rep++)
        {
            var started = Stopwatch.GetTimestamp();
            foreach (var (wave, lengths) in batches)
            {
                using var result = session.Run(runOptions, names, [wave, lengths], outputs);
            }
            times.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        foreach (var (wave, lengths) in batches)
        {
            wave.Dispose();
            lengths.Dispose();
        }

        times.Sort();
        var median = times[times.Count / 2];
        var audio = count * seconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"graph {graph} ({new FileInfo(graph).Length / (1024.0 * 1024):0} MiB), threads {settings.EffectiveThreads}, {count} utterances of {seconds} s in batches of {settings.BatchSize}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"session load {loadSeconds:0.0} s; first (warm-up) batch {warmSeconds:0.00} s"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acoustic encoder: median {median:0.00} s (best {times[0]:0.00} s) for {audio:0} s of audio = {audio / median:0.00}x real time, {count / median:0.00} utterances/s"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"peak resident memory: {BenchReport.Mib(MachineInfo.PeakResidentBytes())} (before load {BenchReport.Mib(before)}, after load {BenchReport.Mib(afterLoad)})"));
        output.WriteLine($"load average at end: {MachineInfo.LoadAverage()}");
        if (profilePrefix is not null)
        {
            var file = session.EndProfiling();
            output.WriteLine($"profile written to {Path.GetFullPath(file)} (the timings above include the profiler's cost)");
            OrtProfile.Read(file).Write(output);
        }
        return 0;
    }
}

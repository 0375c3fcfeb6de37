using System.Diagnostics;
using System.Text;

namespace EmotionBatch.Testing;

/// <summary>
/// The worker as a real operating-system process (<c>dotnet emotionbatch.dll ...</c>, from the test's own output
/// folder), configured through <c>EmotionBatch__*</c> environment variables and killed with SIGKILL when asked.
/// Its stdout and stderr are captured line by line for assertions.
/// </summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _peakWorkingSet;

    private WorkerProcess(Process process)
    {
        _process = process;
    }

    public static string EntryAssembly => Path.Combine(AppContext.BaseDirectory, "emotionbatch.dll");

    /// <summary>The bench tool, a separate executable above the worker (<c>emotionbatch-bench</c>).</summary>
    public static string BenchAssembly => Path.Combine(AppContext.BaseDirectory, "emotionbatch-bench.dll");

    /// <summary>The trained default bundle when it exists, else the untrained wiring bundle.</summary>
    public static string Bundle =>
        File.Exists(Path.Combine(RepoPaths.DefaultBundle, "manifest.json"))
            ? RepoPaths.DefaultBundle
            : Path.Combine(RepoPaths.Root, "models", "untrained");

    /// <summary>Settings every test worker needs: models, one inference thread, no health port, short polls.</summary>
    public static Dictionary<string, string?> BaseSettings(string workFolder) => new()
    {
        ["EmotionBatch:Worker:WorkFolder"] = workFolder,
        ["EmotionBatch:Vad:ModelPath"] = RepoPaths.SileroVadOnnx,
        ["EmotionBatch:Model:BundlePath"] = Bundle,
        ["EmotionBatch:Model:IntraOpThreads"] = "1",
        ["EmotionBatch:Telemetry:HealthPort"] = "0",
        ["EmotionBatch:Source:PollInterval"] = "00:00:01",
        ["EmotionBatch:Output:RetryBackoff"] = "00:00:00",
    };

    public int Id => _process.Id;

    public bool HasExited => _exited.Task.IsCompleted;

    public int ExitCode => _process.ExitCode;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Largest resident set seen while it ran (sampled; see <see cref="SamplePeakWorkingSet"/>).</summary>
    public long PeakWorkingSetBytes => Interlocked.Read(ref _peakWorkingSet);

    public string Output
    {
        get { lock (_output) { return _output.ToString(); } }
    }

    /// <param name="settings">Configuration keys with ':' (turned into '__' environment variables).</param>
    public static WorkerProcess Start(IReadOnlyDictionary<string, string?> settings, params string[] arguments) =>
        StartAssembly(EntryAssembly, settings, arguments);

    /// <summary>Another executable of the product (e.g. <see cref="BenchAssembly"/>), started the same way.</summary>
    public static WorkerProcess StartAssembly(string assembly, IReadOnlyDictionary<string, string?> settings, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoPaths.Root,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        start.Environment["DOTNET_NOLOGO"] = "1";

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Capture(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Capture(e.Data);
        process.Exited += (_, _) => worker._exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits for the process to exit; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(_exited.Task, Task.Delay(timeout)).ConfigureAwait(false);
        if (finished != _exited.Task)
        {
            return false;
        }
        // Drains the redirected streams.
        await _process.WaitForExitAsync().ConfigureAwait(false);
        return true;
    }

    /// <summary>SIGKILL to the worker and its children (ffmpeg): no shutdown code of the worker runs.</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        await _process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until a captured line contains <paramref name="text"/>; false on timeout or exit.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Output.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }
            if (HasExited)
            {
                return Output.Contains(text, StringComparison.Ordinal);
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>Records the process's peak resident set (VmHWM on Linux); call while it runs.</summary>
    public void SamplePeakWorkingSet()
    {
        try
        {
            _process.Refresh();
            var peak = Math.Max(_process.PeakWorkingSet64, _process.WorkingSet64);
            long current;
            while ((current = Interlocked.Read(ref _peakWorkingSet)) < peak
                && Interlocked.CompareExchange(ref _peakWorkingSet, peak, current) != current)
            {
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the read.
        }
    }

    public void Dispose()
    {
        if (!HasExited)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
        _process.Dispose();
    }

    private void Capture(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace EmotionBatch.Benchmarking;

/// <summary>One row of the stage table. <see cref="Seconds"/> is the median over repeats.</summary>
public sealed record StageResult(string Stage, double Seconds, double BestSeconds, double AudioSeconds, int Utterances, string? Note = null)
{
    /// <summary>Median CPU seconds (user + system, ffmpeg children included); NaN where the row was not measured so.</summary>
    public double CpuSeconds { get; init; } = double.NaN;

    public double RealTimeFactor => Seconds > 0 ? AudioSeconds / Seconds : double.PositiveInfinity;
    public double UtterancesPerSecond => Seconds > 0 ? Utterances / Seconds : double.PositiveInfinity;

    public static StageResult Skipped(string stage, string why) => new(stage, double.NaN, double.NaN, 0, 0, why);

    public bool WasSkipped => double.IsNaN(Seconds);
}

/// <summary>Machine facts and the process's memory high-water mark, for the report header and the memory mode.</summary>
public static class MachineInfo
{
    /// <summary>Peak resident set (VmHWM) in bytes; Process.PeakWorkingSet64 where /proc is missing.</summary>
    public static long PeakResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    return kb * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    public static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    public static string Describe()
    {
        var cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} CPUs ({cpu}), {memory:0.#} GiB visible to .NET, {RuntimeInformation.OSDescription}, " +
            $"{RuntimeInformation.FrameworkDescription}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}");
    }
}

internal static class BenchReport
{
    public static void WriteTable(TextWriter output, IReadOnlyList<StageResult> stages)
    {
        output.WriteLine($"{"stage",-34} {"seconds",9} {"best",9} {"CPU s",9} {"audio s",9} {"x real time",12} {"utt/s",9}");
        output.WriteLine(new string('-', 97));
        foreach (var s in stages)
        {
            if (s.WasSkipped)
            {
                output.WriteLine($"{s.Stage,-34} {"-",9} {"-",9} {"-",9} {"-",9} {"-",12} {"-",9}  {s.Note}");
                continue;
            }
            var cpu = double.IsNaN(s.CpuSeconds) ? "-" : s.CpuSeconds.ToString("0.000", CultureInfo.InvariantCulture);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Stage,-34} {s.Seconds,9:0.000} {s.BestSeconds,9:0.000} {cpu,9} {s.AudioSeconds,9:0.0} {s.RealTimeFactor,11:0.0}x {s.UtterancesPerSecond,9:0.0}{(s.Note is null ? "" : "  " + s.Note)}"));
        }
    }

    public static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0} MiB");
}

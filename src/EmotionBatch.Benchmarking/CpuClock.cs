using System.Runtime.InteropServices;

namespace EmotionBatch.Benchmarking;

/// <summary>
/// CPU time of this process plus that of its children that have exited (the ffmpeg decoders), in seconds. On few cores
/// the stages' CPU, not the slowest stage's wall time, bounds how fast the overlapped pipeline can be.
/// </summary>
public static class CpuClock
{
    private const int Self = 0;
    private const int Children = -1;

    /// <summary>User + system seconds so far; NaN where getrusage is not available (only Linux is read).</summary>
    public static double Seconds() =>
        OperatingSystem.IsLinux() ? Usage(Self) + Usage(Children) : double.NaN;

    /// <summary>The part of <see cref="Seconds"/> used by child processes that have exited.</summary>
    public static double ChildrenSeconds() =>
        OperatingSystem.IsLinux() ? Usage(Children) : double.NaN;

    private static double Usage(int who)
    {
        // struct rusage on LP64 Linux: ru_utime and ru_stime (each seconds, microseconds), then 14 longs.
        var usage = new long[18];
        if (getrusage(who, usage) != 0)
        {
            return double.NaN;
        }
        return usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, [Out] long[] usage);
}

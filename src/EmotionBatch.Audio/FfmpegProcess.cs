using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace EmotionBatch.Audio;

/// <summary>
/// One ffmpeg/ffprobe child process: arguments passed as an argv list (never a parsed command line), stdin closed,
/// stderr kept as a bounded tail for error reasons, and the process killed on cancellation or disposal.
/// </summary>
internal sealed class FfmpegProcess : IDisposable
{
    private const int StderrLinesKept = 24;

    private readonly Process _process;
    private readonly Queue<string> _stderrTail = new();
    private readonly CancellationTokenRegistration _cancellation;

    private FfmpegProcess(Process process, CancellationToken cancellationToken)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (string.IsNullOrWhiteSpace(e.Data))
            {
                return;
            }
            lock (_stderrTail)
            {
                if (_stderrTail.Count == StderrLinesKept)
                {
                    _stderrTail.Dequeue();
                }
                _stderrTail.Enqueue(e.Data.Trim());
            }
        };
        _process.BeginErrorReadLine();
        _cancellation = cancellationToken.Register(static state => ((FfmpegProcess)state!).Kill(), this);
    }

    public Stream StandardOutput => _process.StandardOutput.BaseStream;

    public int ExitCode => _process.ExitCode;

    public static FfmpegProcess Start(string binary, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var startInfo = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException(
                $"Cannot start '{binary}': {e.Message}. Install ffmpeg or set {DecoderOptions.SectionName}:FfmpegFolder.", e);
        }
        // ffmpeg must never wait for or read keyboard input.
        process.StandardInput.Close();
        return new FfmpegProcess(process, cancellationToken);
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>The last stderr lines, stripped of ffmpeg's "[demuxer @ 0x...]" prefixes, joined for a reason column.</summary>
    public string StderrSummary(int maxLength = 300)
    {
        string[] lines;
        lock (_stderrTail)
        {
            lines = [.. _stderrTail];
        }
        return Summarise(lines, maxLength);
    }

    public IReadOnlyList<string> StderrLines()
    {
        lock (_stderrTail)
        {
            return [.. _stderrTail];
        }
    }

    internal static string Summarise(IEnumerable<string> lines, int maxLength)
    {
        var builder = new StringBuilder();
        foreach (var raw in lines.Select(StripContext).Where(l => l.Length > 0).Distinct().TakeLast(4))
        {
            if (builder.Length > 0)
            {
                builder.Append("; ");
            }
            builder.Append(raw);
        }
        var text = builder.Length == 0 ? "no diagnostic output" : builder.ToString();
        return text.Length <= maxLength ? text : text[..(maxLength - 3)] + "...";
    }

    private static string StripContext(string line)
    {
        // "[mp3 @ 0x55d0c0a0] Header missing" -> "Header missing": the address is noise in a reason column.
        var text = line.Trim();
        if (text.StartsWith('[') && text.IndexOf("] ", StringComparison.Ordinal) is var close and > 0)
        {
            text = text[(close + 2)..];
        }
        return text.Trim();
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (Win32Exception)
        {
            // Exiting while we tried; nothing left to stop.
        }
    }

    public void Dispose()
    {
        _cancellation.Dispose();
        Kill();
        _process.Dispose();
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace EmotionBatch.Audio;

/// <summary>
/// One ffmpeg/ffprobe child process: arguments passed as an argv list (never a parsed command line), stdin closed,
/// stderr kept as a bounded tail for error reasons, and the process killed on cancellation or disposal.
/// Run with <c>-loglevel level+info</c>, ffmpeg tags each line with its level: info lines never become reasons, and
/// the input's description (<see cref="InputDescription"/>) is collected from them until the output is set up.
/// </summary>
internal sealed class FfmpegProcess : IDisposable
{
    private const int StderrLinesKept = 24;
    private const int DescriptionLinesKept = 64;

    private readonly Process _process;
    private readonly Queue<string> _stderrTail = new();
    private readonly List<string> _description = [];
    private readonly TaskCompletionSource _described = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenRegistration _cancellation;

    private readonly bool _levelTagged;

    private FfmpegProcess(Process process, bool levelTagged, CancellationToken cancellationToken)
    {
        _process = process;
        _levelTagged = levelTagged;
        _process.ErrorDataReceived += (_, e) => OnStderrLine(e.Data);
        _process.BeginErrorReadLine();
        _cancellation = cancellationToken.Register(static state => ((FfmpegProcess)state!).Kill(), this);
    }

    /// <summary>Completes when ffmpeg has described its input and set up its output, or when stderr closes.</summary>
    public Task InputDescribed => _described.Task;

    /// <summary>Info lines of the input's description ("Input #0, ...", "  Duration: ...", "  Stream #0:0: ...").</summary>
    public IReadOnlyList<string> DescriptionLines()
    {
        lock (_description)
        {
            return [.. _description];
        }
    }

    private void OnStderrLine(string? line)
    {
        if (line is null)
        {
            _described.TrySetResult();
            return;
        }
        var (level, message) = FfmpegLogLine.Split(line);
        if (level is not null && FfmpegLogLine.IsInformational(level))
        {
            // Only lines ffmpeg itself tagged: a value with a line break in a tag continues untagged and is not trusted.
            if (!_described.Task.IsCompleted)
            {
                if (message.StartsWith("Output #", StringComparison.Ordinal) || message.StartsWith("Stream mapping:", StringComparison.Ordinal))
                {
                    _described.TrySetResult();
                }
                else if (InputDescription.IsDescriptionLine(message))
                {
                    lock (_description)
                    {
                        if (_description.Count < DescriptionLinesKept)
                        {
                            _description.Add(message);
                        }
                    }
                }
            }
            return;
        }
        if (string.IsNullOrWhiteSpace(message) || (level is null && _levelTagged))
        {
            return;
        }
        lock (_stderrTail)
        {
            if (_stderrTail.Count == StderrLinesKept)
            {
                _stderrTail.Dequeue();
            }
            _stderrTail.Enqueue(message.Trim());
        }
    }

    public Stream StandardOutput => _process.StandardOutput.BaseStream;

    /// <param name="levelTagged">The arguments include <c>-loglevel level+...</c>: untagged stderr lines are continuations and are dropped.</param>
    public static FfmpegProcess Start(string binary, IEnumerable<string> arguments, CancellationToken cancellationToken, bool levelTagged = false)
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
        return new FfmpegProcess(process, levelTagged, cancellationToken);
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

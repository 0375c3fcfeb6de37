using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace EmotionBatch.Testing;

/// <summary>
/// A private Azurite blob emulator on a free loopback port, with its data in a temporary folder. It can be stopped
/// and started again on the same port and data (to test riding out an outage); disposing kills it and removes the data.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime, IDisposable
{
    /// <summary>Azurite's fixed development account and key (public, documented by Microsoft; not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly StringBuilder _output = new();
    private readonly TempFolder _data = new("azurite");
    private Process? _process;

    public AzuriteFixture()
    {
        Port = FreeLoopbackPort();
    }

    public int Port { get; }

    public string BlobEndpoint => $"http://127.0.0.1:{Port}/{AccountName}";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};";

    public bool IsRunning
    {
        get { lock (_gate) { return _process is { HasExited: false }; } }
    }

    public static string ExecutablePath => Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite-blob");

    /// <summary>A container name no other test uses.</summary>
    public static string NewContainerName(string label = "test") => $"{label}-{Guid.NewGuid():N}"[..Math.Min(63, label.Length + 33)];

    public Task InitializeAsync()
    {
        Start();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Start()
    {
        lock (_gate)
        {
            if (_process is { HasExited: false })
            {
                return;
            }
            var executable = ExecutablePath;
            if (!File.Exists(executable))
            {
                throw new InvalidOperationException(
                    $"The Azurite emulator is not installed ({executable} is missing): run npm ci at the repository root.");
            }
            _output.Clear();
            var start = new ProcessStartInfo("node")
            {
                WorkingDirectory = RepoPaths.Root,
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[]
            {
                executable,
                "--blobHost", "127.0.0.1",
                "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--location", _data.Path,
                "--skipApiVersionCheck",
                "--loose",
                "--silent",
                // Telemetry would try to reach the internet from a test run.
                "--disableTelemetry",
            })
            {
                start.ArgumentList.Add(argument);
            }
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) => Capture(e.Data);
            process.ErrorDataReceived += (_, e) => Capture(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
        }
        WaitUntilListening();
    }

    /// <summary>Stops the emulator, letting it flush its data first, so a later <see cref="Start"/> sees the same blobs.</summary>
    public void Stop()
    {
        Process? process;
        lock (_gate)
        {
            process = _process;
            _process = null;
        }
        if (process is null)
        {
            return;
        }
        using (process)
        {
            if (!process.HasExited)
            {
                // SIGTERM lets Azurite save its metadata; SIGKILL only if it does not go in time.
                if (!OperatingSystem.IsWindows())
                {
                    _ = SendSignal(process.Id, 15);
                }
                if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
                {
                    try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                    process.WaitForExit(TimeSpan.FromSeconds(5));
                }
            }
        }
        WaitUntilClosed();
    }

    public void Dispose()
    {
        Stop();
        _data.Dispose();
    }

    private void WaitUntilListening()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_gate)
            {
                if (_process is null || _process.HasExited)
                {
                    throw new InvalidOperationException($"Azurite exited during start-up (exit code {_process?.ExitCode}). Output:\n{CapturedOutput()}");
                }
            }
            if (PortAnswers())
            {
                return;
            }
            Thread.Sleep(100);
        }
        Stop();
        throw new TimeoutException($"Azurite did not listen on 127.0.0.1:{Port} within {StartTimeout.TotalSeconds} s. Output:\n{CapturedOutput()}");
    }

    private void WaitUntilClosed()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline && PortAnswers())
        {
            Thread.Sleep(50);
        }
    }

    private bool PortAnswers()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
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

    private string CapturedOutput()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}

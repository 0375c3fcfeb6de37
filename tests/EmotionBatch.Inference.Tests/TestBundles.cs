using System.Diagnostics;
using EmotionBatch.Testing;

namespace EmotionBatch.Inference.Tests;

/// <summary>
/// Untrained bundles exported by make_test_bundle.py (Debian's PyTorch) into a temporary folder, once per test run.
/// </summary>
public sealed class TestBundles : IDisposable
{
    public const string PythonVariable = "EMOTIONBATCH_PYTHON";

    private readonly TempFolder _folder = RepoPaths.NewTempFolder("bundles");

    public TestBundles()
    {
        var python = Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } configured ? configured : "/usr/bin/python3";
        var script = Path.Combine(AppContext.BaseDirectory, "make_test_bundle.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(_folder.Path);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Cannot run {python} to export the test bundles ({e.Message}). Install Debian's PyTorch: apt-get install -y python3-torch python3-onnx, or set {PythonVariable}.", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{script} did not finish within 5 minutes.");
            }
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{python} {script} failed with exit code {process.ExitCode}. It needs torch and onnx " +
                    $"(apt-get install -y python3-torch python3-onnx; set {PythonVariable} for another interpreter).\n{stderr.Result}\n{stdout.Result}");
            }
        }
    }

    /// <summary>Text encoder: the built-in all-MiniLM-L6-v2.</summary>
    public string BuiltinText => Path.Combine(_folder.Path, "builtin-text");

    /// <summary>Text encoder: a tiny ONNX graph and vocab.txt inside the bundle.</summary>
    public string FileText => Path.Combine(_folder.Path, "file-text");

    public void Dispose() => _folder.Dispose();
}

[CollectionDefinition(Name)]
public sealed class BundleCollection : ICollectionFixture<TestBundles>
{
    public const string Name = "test bundles";
}

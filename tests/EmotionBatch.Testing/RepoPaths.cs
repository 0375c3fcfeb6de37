namespace EmotionBatch.Testing;

/// <summary>Locates the repository and the read-only shared material (models, data, audio) beside it.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    public static string Root => RootLazy.Value;

    /// <summary>The shared folder: EMOTIONBATCH_SHARED if set, else ../shared next to the repository.</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("EMOTIONBATCH_SHARED") is { Length: > 0 } configured
            ? configured
            : Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary>A file or folder under <see cref="Shared"/>; missing material fails with the fix in the message.</summary>
    public static string SharedFile(params string[] parts)
    {
        var path = Path.Combine([Shared, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException($"Shared test material is missing: {path}. Set EMOTIONBATCH_SHARED to the shared folder.", path);
        }
        return path;
    }

    public static string JfkWav => SharedFile("audio", "jfk.wav");

    public static string SileroVadOnnx
    {
        get
        {
            var fetched = Path.Combine(Root, ".models", "silero-vad", "silero_vad.onnx");
            return File.Exists(fetched) ? fetched : SharedFile("models", "silero-vad", "silero_vad_v6.onnx");
        }
    }

    public static string DefaultBundle => Path.Combine(Root, "models", "default");

    /// <summary>A fresh temporary folder, removed when the returned handle is disposed.</summary>
    public static TempFolder NewTempFolder(string label) => new(label);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EmotionBatch.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Cannot find the repository root (EmotionBatch.sln) above " + AppContext.BaseDirectory);
    }
}

public sealed class TempFolder : IDisposable
{
    public TempFolder(string label)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "emotionbatch-tests", $"{label}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

namespace EmotionBatch.Benchmarks;

/// <summary>
/// Files the benchmarks load, found from the repository root (BenchmarkDotNet runs them from a generated project
/// under bin/, so the current directory says nothing). EMOTIONBATCH_BUNDLE picks another bundle.
/// </summary>
internal static class BenchPaths
{
    public static string Root { get; } = FindRoot();

    public static string Bundle => Environment.GetEnvironmentVariable("EMOTIONBATCH_BUNDLE") is { Length: > 0 } bundle
        ? Path.GetFullPath(bundle)
        : Path.Combine(Root, Directory.Exists(Path.Combine(Root, "models", "default")) ? "models/default" : "models/untrained");

    public static string VadModel => Path.Combine(Root, Audio.SileroVadModel.DefaultRelativePath);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EmotionBatch.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("EmotionBatch.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Seeded speech-like waveform: harmonics with an envelope and a little noise.</summary>
    public static float[] Waveform(int samples, int seed)
    {
        var random = new Random(seed);
        var f0 = 100 + seed % 7 * 20;
        var wave = new float[samples];
        for (var i = 0; i < samples; i++)
        {
            var t = i / 16000.0;
            var envelope = 0.5 + 0.5 * Math.Sin(2 * Math.PI * 2.5 * t);
            wave[i] = (float)(envelope * 0.2 * (Math.Sin(2 * Math.PI * f0 * t) + 0.5 * Math.Sin(4 * Math.PI * f0 * t)) + 0.01 * (random.NextDouble() - 0.5));
        }
        return wave;
    }
}

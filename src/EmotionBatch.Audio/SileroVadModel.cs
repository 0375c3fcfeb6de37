namespace EmotionBatch.Audio;

/// <summary>Where the Silero VAD model is expected and how to tell an operator it is missing.</summary>
public static class SileroVadModel
{
    /// <summary>Produced by <c>bash scripts/fetch-models.sh</c>.</summary>
    public const string DefaultRelativePath = ".models/silero-vad/silero_vad.onnx";

    public static string ResolvePath(string modelPath) => Path.GetFullPath(modelPath);

    /// <summary>Null when the model file is usable, else a message that names the path and the fix.</summary>
    public static string? FindProblem(string modelPath)
    {
        if (string.IsNullOrWhiteSpace(modelPath))
        {
            return "The Silero VAD model path (EmotionBatch:Vad:ModelPath) is empty; run `bash scripts/fetch-models.sh` and point it at .models/silero-vad/silero_vad.onnx.";
        }
        var full = ResolvePath(modelPath);
        if (!File.Exists(full))
        {
            return $"The Silero VAD model is missing: {full} does not exist. Run `bash scripts/fetch-models.sh` from the repository root, or set EmotionBatch:Vad:ModelPath.";
        }
        if (new FileInfo(full).Length == 0)
        {
            return $"The Silero VAD model at {full} is empty. Run `bash scripts/fetch-models.sh` again.";
        }
        return null;
    }

    /// <summary>Throws <see cref="FileNotFoundException"/> with <see cref="FindProblem"/>'s message; returns the full path otherwise.</summary>
    public static string EnsureAvailable(string modelPath)
    {
        if (FindProblem(modelPath) is { } problem)
        {
            throw new FileNotFoundException(problem, string.IsNullOrWhiteSpace(modelPath) ? null : ResolvePath(modelPath));
        }
        return ResolvePath(modelPath);
    }
}

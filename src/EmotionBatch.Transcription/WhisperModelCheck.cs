using System.Security.Cryptography;

namespace EmotionBatch.Transcription;

/// <summary>Start-up checks of the configured model file: present, and the expected bytes when a hash is given.</summary>
public static class WhisperModelCheck
{
    /// <summary>Null when the model is usable (or transcription is disabled); otherwise what is wrong.</summary>
    public static string? Problem(TranscriptionOptions options)
    {
        if (!options.IsEnabled)
        {
            return null;
        }
        var path = Path.GetFullPath(options.ModelPath!);
        if (!File.Exists(path))
        {
            return $"{TranscriptionOptions.SectionName}:ModelPath: the Whisper model file {path} does not exist.";
        }
        if (string.IsNullOrWhiteSpace(options.ExpectedSha256))
        {
            return null;
        }
        string actual;
        using (var stream = File.OpenRead(path))
        {
            actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        return actual.Equals(options.ExpectedSha256.Trim(), StringComparison.OrdinalIgnoreCase)
            ? null
            : $"{TranscriptionOptions.SectionName}:ExpectedSha256: the Whisper model file {path} has SHA-256 {actual}, " +
              $"expected {options.ExpectedSha256.Trim().ToLowerInvariant()}. The file is not the configured model (wrong or corrupted download).";
    }

    public static void ThrowIfInvalid(TranscriptionOptions options)
    {
        if (Problem(options) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }
}

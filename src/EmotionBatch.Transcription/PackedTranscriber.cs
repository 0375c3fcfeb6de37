using System.Text.RegularExpressions;
using EmotionBatch.Core;

namespace EmotionBatch.Transcription;

/// <summary>
/// Transcribes utterances in packed windows (<see cref="PackedWindows"/>): one recognition call per window of up to
/// <see cref="ITranscriber.PackSeconds"/>, segments mapped back to the utterances by time.
/// </summary>
public sealed partial class PackedTranscriber(IWindowRecognizer? recognizer, double packSeconds, string? fixedLanguage = null) : ITranscriber
{
    /// <summary>whisper.cpp skips inputs under one second; shorter windows are padded with silence past it.</summary>
    public const int MinimumSamples = IAudioDecoder.SampleRate + IAudioDecoder.SampleRate / 10;

    public bool IsEnabled => recognizer is not null;

    public double PackSeconds => packSeconds;

    public async Task<IReadOnlyList<Transcript?>> TranscribeAsync(IReadOnlyList<Utterance> utterances, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(utterances);
        var result = new Transcript?[utterances.Count];
        if (recognizer is null)
        {
            return result;
        }
        var texts = utterances.Select(_ => new List<string>()).ToArray();
        var languages = new string?[utterances.Count];
        foreach (var window in PackedWindows.Pack(utterances, packSeconds, MinimumSamples))
        {
            var segments = await recognizer.RecognizeAsync(window.Samples, cancellationToken).ConfigureAwait(false);
            PackedWindows.Assign(window, segments.Where(segment => !NonSpeechMarker().IsMatch(segment.Text)).ToList(), texts, languages);
        }
        for (var i = 0; i < result.Length; i++)
        {
            var text = string.Join(' ', texts[i]).Trim();
            if (text.Length > 0)
            {
                var language = string.IsNullOrEmpty(languages[i]) ? fixedLanguage : languages[i];
                result[i] = new Transcript(text, string.IsNullOrEmpty(language) ? null : language);
            }
        }
        return result;
    }

    /// <summary>Whisper's annotations for non-speech, e.g. "[BLANK_AUDIO]" or "(silence)", are not transcripts.</summary>
    [GeneratedRegex(@"^(\s*(\[[^\]]*\]|\([^)]*\)))*\s*$")]
    private static partial Regex NonSpeechMarker();
}

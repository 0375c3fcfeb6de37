using EmotionBatch.Core;

namespace EmotionBatch.Transcription;

/// <summary>A stretch of recognised speech, timed from the start of the window it was recognised in.</summary>
public sealed record RecognizedSegment(double StartSeconds, double EndSeconds, string Text, string? Language);

/// <summary>Speech recognition over one window of 16 kHz audio (at most <see cref="PackedWindows.WhisperWindowSeconds"/>).</summary>
public interface IWindowRecognizer
{
    Task<IReadOnlyList<RecognizedSegment>> RecognizeAsync(float[] window, CancellationToken cancellationToken);
}

/// <summary>
/// Lays utterances end to end into recognition windows and maps the segments recognised in a window back to the
/// utterances by time. Silences between utterances are cut to <see cref="GapSeconds"/> of digital silence, so a window
/// holds speech only but Whisper still hears where one utterance ends; an utterance longer than a window is cut into
/// window-sized pieces whose texts are joined again.
/// </summary>
public static class PackedWindows
{
    /// <summary>Whisper's encoder always covers 30 s; a shorter call is padded to it.</summary>
    public const int WhisperWindowSeconds = 30;

    /// <summary>Silence between two utterances in a window.</summary>
    public const double GapSeconds = 0.3;

    private const int Rate = IAudioDecoder.SampleRate;

    /// <summary>One piece of one utterance inside a window.</summary>
    /// <param name="Utterance">Position of the utterance in the list given to <see cref="Pack"/>.</param>
    /// <param name="StartSeconds">Where the piece starts in the window.</param>
    public readonly record struct Piece(int Utterance, double StartSeconds, double EndSeconds);

    public sealed record Window(float[] Samples, IReadOnlyList<Piece> Pieces);

    /// <summary>
    /// Windows of at most <paramref name="windowSeconds"/> (0: one window per utterance; a longer utterance alone fills a
    /// window of up to 30 s), filled in order. Windows
    /// shorter than <paramref name="minimumSamples"/> are padded with silence at the end (whisper.cpp skips inputs under a second).
    /// </summary>
    public static IReadOnlyList<Window> Pack(IReadOnlyList<Utterance> utterances, double windowSeconds, int minimumSamples = 0)
    {
        ArgumentNullException.ThrowIfNull(utterances);
        var limit = (int)(Math.Min(windowSeconds <= 0 ? WhisperWindowSeconds : windowSeconds, WhisperWindowSeconds) * Rate);
        // Pieces are cut at Whisper's own window, not at the pack length: an utterance longer than the pack gets a window of its own.
        var pieceLimit = WhisperWindowSeconds * Rate;
        var gap = (int)(GapSeconds * Rate);
        var windows = new List<Window>();
        var samples = new List<float>();
        var pieces = new List<Piece>();

        void Close()
        {
            if (pieces.Count == 0)
            {
                return;
            }
            while (samples.Count < minimumSamples)
            {
                samples.Add(0f);
            }
            windows.Add(new Window(samples.ToArray(), pieces.ToList()));
            samples.Clear();
            pieces.Clear();
        }

        for (var u = 0; u < utterances.Count; u++)
        {
            var audio = utterances[u].Samples;
            for (var offset = 0; offset < audio.Length; offset += pieceLimit)
            {
                var length = Math.Min(pieceLimit, audio.Length - offset);
                var needed = (pieces.Count > 0 ? gap : 0) + length;
                if (windowSeconds <= 0 || samples.Count + needed > limit)
                {
                    Close();
                }
                if (pieces.Count > 0)
                {
                    samples.AddRange(new float[gap]);
                }
                var start = samples.Count / (double)Rate;
                samples.AddRange(audio.AsSpan(offset, length).ToArray());
                pieces.Add(new Piece(u, start, samples.Count / (double)Rate));
            }
        }
        Close();
        return windows;
    }

    /// <summary>
    /// Whether <paramref name="next"/> still fits a window already holding <paramref name="pack"/>, with the gap before
    /// it: the rule <see cref="Pack"/> closes windows by, for callers that gather utterances before packing them.
    /// </summary>
    public static bool Fits(IReadOnlyList<Utterance> pack, Utterance next, double windowSeconds)
    {
        ArgumentNullException.ThrowIfNull(pack);
        ArgumentNullException.ThrowIfNull(next);
        var limit = Math.Min(windowSeconds, WhisperWindowSeconds);
        return pack.Sum(u => u.DurationSeconds) + pack.Count * GapSeconds + next.DurationSeconds <= limit;
    }

    /// <summary>
    /// Gives each recognised segment's text to the pieces it covers: all of it to the only one, or its words split in
    /// proportion to the time shared with each when it spans several; a segment in a gap or past the window's end goes
    /// to the nearest piece. Texts are appended to <paramref name="texts"/> by utterance position.
    /// </summary>
    public static void Assign(Window window, IReadOnlyList<RecognizedSegment> segments, List<string>[] texts, string?[] languages)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(segments);
        foreach (var segment in segments)
        {
            var text = segment.Text.Trim();
            if (text.Length == 0 || window.Pieces.Count == 0)
            {
                continue;
            }
            var start = Math.Max(0, segment.StartSeconds);
            var end = Math.Max(start, segment.EndSeconds);
            var shares = window.Pieces
                .Select(piece => Math.Max(0, Math.Min(end, piece.EndSeconds) - Math.Max(start, piece.StartSeconds)))
                .ToArray();
            var total = shares.Sum();
            if (total <= 0)
            {
                var nearest = Enumerable.Range(0, window.Pieces.Count).MinBy(i => Distance(window.Pieces[i], start, end));
                Add(window.Pieces[nearest].Utterance, text, segment.Language);
                continue;
            }
            var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            double before = 0;
            for (var i = 0; i < shares.Length; i++)
            {
                if (shares[i] <= 0)
                {
                    continue;
                }
                var from = (int)Math.Round(before / total * words.Length);
                before += shares[i];
                var to = (int)Math.Round(before / total * words.Length);
                if (to > from)
                {
                    Add(window.Pieces[i].Utterance, string.Join(' ', words[from..to]), segment.Language);
                }
            }
        }

        void Add(int utterance, string text, string? language)
        {
            texts[utterance].Add(text);
            languages[utterance] ??= language;
        }
    }

    private static double Distance(Piece piece, double start, double end) =>
        end < piece.StartSeconds ? piece.StartSeconds - end : start > piece.EndSeconds ? start - piece.EndSeconds : 0;
}

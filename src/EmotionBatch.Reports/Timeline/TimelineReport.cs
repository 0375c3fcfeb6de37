using System.Globalization;
using EmotionBatch.Core;
using EmotionBatch.Datasets;
using ScottPlot;
using SkiaSharp;

namespace EmotionBatch.Reports.Timeline;

/// <summary>
/// Draws the emotion timeline of one recording: coloured bands per utterance (the predicted emotion), and valence and
/// arousal as steps spanning each utterance with a marker at its midpoint. A recording split by channel gets one lane
/// per channel (the first channel on top), labelled with its role, on one shared time axis.
/// </summary>
public static class TimelineReport
{
    public const int DefaultWidth = 1600;
    public const int DefaultHeight = 700;

    /// <summary>Shown on every picture of a model bundle exported with random weights, whose labels mean nothing.</summary>
    public const string UntrainedNote = "UNTRAINED MODEL — not emotions";

    private const double BandBottom = -1.12;
    private const double BandTop = 1.12;
    private const double StripBottom = 1.17;
    private const double StripTop = 1.42;
    // Vertical distance between two channels' lanes: a lane spans BandBottom..StripTop plus a gap.
    private const double LaneHeight = 2.9;

    private static readonly Color ValenceColor = Color.FromHex("#111111");
    private static readonly Color ArousalColor = Color.FromHex("#8E24AA");

    // Fonts tried in order; the first one installed wins (DejaVu comes with fonts-dejavu-core on Debian and Ubuntu).
    private static readonly string[] PreferredFonts = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"];

    /// <summary>True when a bundle's name marks it as exported with random weights.</summary>
    public static bool IsUntrained(string? modelName) =>
        modelName?.Contains("untrained", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>Builds the plot for the rows of one recording (one version). Rows may come in any order.</summary>
    /// <param name="durationSeconds">Length of the recording when known; the x axis then spans all of it.</param>
    public static Plot CreatePlot(IReadOnlyList<UtteranceRow> rows, double? durationSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("A timeline needs at least one utterance.", nameof(rows));
        }
        var recordingId = rows[0].RecordingId;
        if (rows.Any(row => !string.Equals(row.RecordingId, recordingId, StringComparison.Ordinal)))
        {
            throw new ArgumentException("A timeline shows one recording; rows of several were passed.", nameof(rows));
        }

        var ordered = rows.OrderBy(row => row.StartSeconds).ThenBy(row => row.UtteranceIndex).ToList();
        var lastEnd = ordered.Max(row => row.EndSeconds);
        var end = Math.Max(durationSeconds ?? 0, lastEnd);
        if (!(end > 0))
        {
            end = 1;
        }
        else if (end <= lastEnd)
        {
            end *= 1.01; // a little air after the last utterance, which otherwise ends on the frame
        }
        var newest = ordered.MaxBy(row => row.ProcessedAtUtc)!;

        var plot = new Plot();
        plot.Font.Set(ResolveFontName());

        var lanes = ordered.GroupBy(row => row.Channel).OrderBy(lane => lane.Key).Select(lane => lane.ToList()).ToList();
        var ticks = new List<(double Position, string Label)>();
        for (var l = 0; l < lanes.Count; l++)
        {
            var offset = (lanes.Count - 1 - l) * LaneHeight;
            var name = lanes.Count == 1 ? null : lanes[l][0].SpeakerRole ?? $"channel {lanes[l][0].Channel}";
            AddLane(plot, lanes[l], offset);
            ticks.AddRange([(offset - 1, "−1"), (offset, name is null ? "0" : $"{name}  0"), (offset + 1, "1"), (offset + (StripBottom + StripTop) / 2, name is null ? "emotion" : $"{name}: emotion")]);
            if (lanes.Count == 1)
            {
                ticks.AddRange([(-0.5, "−0.5"), (0.5, "0.5")]);
            }
        }

        var title = $"Emotion timeline — {recordingId}";
        var subtitle = $"model {newest.ModelName} {newest.ModelVersion}  ·  {ordered.Count} utterances  ·  processed {newest.ProcessedAtUtc.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}";
        plot.Title(title + "\n" + subtitle, size: 24);

        var longRecording = end >= 600;
        plot.XLabel(longRecording ? "time (h:mm:ss)" : "time (s)", size: 20);
        plot.YLabel("valence / arousal (−1 … 1)", size: 20);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 16;
        plot.Axes.Left.TickLabelStyle.FontSize = 16;
        if (longRecording)
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = FormatClock };
        }
        var sortedTicks = ticks.OrderBy(tick => tick.Position).ToList();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            sortedTicks.Select(tick => tick.Position).ToArray(), sortedTicks.Select(tick => tick.Label).ToArray());
        plot.Axes.SetLimits(0, end, -1.2, 1.5 + (lanes.Count - 1) * LaneHeight);

        if (IsUntrained(newest.ModelName))
        {
            var note = plot.Add.Annotation(UntrainedNote, Alignment.LowerCenter);
            note.LabelFontSize = 26;
            note.LabelBold = true;
            note.LabelFontColor = Colors.White;
            note.LabelBackgroundColor = Color.FromHex("#C62828").WithAlpha(0.92);
            note.LabelBorderColor = Color.FromHex("#7F0000");
            note.LabelPadding = 10;
        }

        plot.Legend.ManualItems.AddRange(
        [
            .. EmotionLabels.All.Select(label => new LegendItem { LabelText = label, FillColor = EmotionPalette.For(label) }),
            new LegendItem { LabelText = "valence", LineColor = ValenceColor, LineWidth = 3, MarkerShape = MarkerShape.FilledCircle, MarkerColor = ValenceColor, MarkerSize = 9 },
            new LegendItem { LabelText = "arousal", LineColor = ArousalColor, LineWidth = 3, LinePattern = LinePattern.Dashed, MarkerShape = MarkerShape.FilledSquare, MarkerColor = ArousalColor, MarkerSize = 9 },
        ]);
        plot.Legend.FontSize = 17;
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    public static byte[] RenderPng(IReadOnlyList<UtteranceRow> rows, int width = DefaultWidth, int height = DefaultHeight, double? durationSeconds = null)
    {
        CheckSize(width, height);
        return CreatePlot(rows, durationSeconds).GetImageBytes(width, height, ImageFormat.Png);
    }

    public static string RenderSvg(IReadOnlyList<UtteranceRow> rows, int width = DefaultWidth, int height = DefaultHeight, double? durationSeconds = null)
    {
        CheckSize(width, height);
        return CreatePlot(rows, durationSeconds).GetSvgXml(width, height);
    }

    /// <summary>Writes the picture to <paramref name="path"/> (through a temporary file, so a reader never sees half a picture).</summary>
    public static async Task SaveAsync(
        IReadOnlyList<UtteranceRow> rows, string path, ReportFormat format, int width = DefaultWidth, int height = DefaultHeight,
        double? durationSeconds = null, CancellationToken cancellationToken = default)
    {
        var content = format == ReportFormat.Svg
            ? System.Text.Encoding.UTF8.GetBytes(RenderSvg(rows, width, height, durationSeconds))
            : RenderPng(rows, width, height, durationSeconds);
        await AtomicFile.WriteAsync(path, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The font family the pictures use: the first preferred one installed, else whatever the system offers.</summary>
    public static string ResolveFontName()
    {
        var installed = SKFontManager.Default.FontFamilies.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return PreferredFonts.FirstOrDefault(installed.Contains) ?? Fonts.Default;
    }

    /// <summary>One channel's bands, emotion strip, zero line and valence/arousal steps, raised by <paramref name="offset"/>.</summary>
    private static void AddLane(Plot plot, List<UtteranceRow> ordered, double offset)
    {
        foreach (var row in ordered)
        {
            // A faint band over the full height ties the lines to the emotion; the solid strip on top makes it legible.
            var band = plot.Add.Rectangle(row.StartSeconds, row.EndSeconds, offset + BandBottom, offset + BandTop);
            band.FillColor = EmotionPalette.For(row.Emotion).WithAlpha(0.16);
            band.LineWidth = 0;
            var strip = plot.Add.Rectangle(row.StartSeconds, row.EndSeconds, offset + StripBottom, offset + StripTop);
            strip.FillColor = EmotionPalette.For(row.Emotion);
            strip.LineWidth = 0;
        }

        var zero = plot.Add.HorizontalLine(offset);
        zero.Color = Colors.Black.WithAlpha(0.35);
        zero.LineWidth = 1;
        zero.LinePattern = LinePattern.Dotted;

        AddSeries(plot, ordered, row => row.Valence, offset, ValenceColor, MarkerShape.FilledCircle, LinePattern.Solid);
        AddSeries(plot, ordered, row => row.Arousal, offset, ArousalColor, MarkerShape.FilledSquare, LinePattern.Dashed);
    }

    private static void AddSeries(
        Plot plot, List<UtteranceRow> ordered, Func<UtteranceRow, float> value, double offset, Color color, MarkerShape marker, LinePattern pattern)
    {
        // Steps: one horizontal segment per utterance (the value holds for its whole span), broken across silences.
        var xs = new List<double>(ordered.Count * 3);
        var ys = new List<double>(ordered.Count * 3);
        foreach (var row in ordered)
        {
            var v = offset + Math.Clamp(value(row), -1, 1);
            if (xs.Count > 0)
            {
                xs.Add(row.StartSeconds);
                ys.Add(double.NaN);
            }
            xs.Add(row.StartSeconds);
            ys.Add(v);
            xs.Add(row.EndSeconds);
            ys.Add(v);
        }
        var steps = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
        steps.Color = color;
        steps.LineWidth = 3;
        steps.LinePattern = pattern;

        // Thin connectors through the midpoints show the trend; markers sit where each utterance's value belongs.
        var mids = plot.Add.Scatter(
            ordered.Select(row => (row.StartSeconds + row.EndSeconds) / 2).ToArray(),
            ordered.Select(row => offset + Math.Clamp(value(row), -1, 1)).ToArray());
        mids.Color = color.WithAlpha(0.55);
        mids.LineWidth = 1;
        mids.LinePattern = pattern;
        mids.MarkerShape = marker;
        mids.MarkerSize = ordered.Count > 300 ? 4 : 9;
        mids.MarkerColor = color;
    }

    private static string FormatClock(double seconds)
    {
        if (seconds < 0)
        {
            return "";
        }
        var time = TimeSpan.FromSeconds(Math.Round(seconds));
        return time.TotalHours >= 1
            ? time.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : time.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }

    private static void CheckSize(int width, int height)
    {
        if (width is < 200 or > 20_000 || height is < 150 or > 20_000)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"{width}x{height} is not a sensible picture size (200x150 to 20000x20000).");
        }
    }
}

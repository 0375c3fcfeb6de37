namespace EmotionBatch.Reports.Timeline;

public enum ReportFormat
{
    Png,
    Svg,
}

public static class ReportFormats
{
    public static string Extension(ReportFormat format) => format == ReportFormat.Svg ? ".svg" : ".png";

    /// <summary>The format a file name asks for (".svg" means SVG, anything else PNG).</summary>
    public static ReportFormat FromPath(string path) =>
        string.Equals(Path.GetExtension(path), ".svg", StringComparison.OrdinalIgnoreCase) ? ReportFormat.Svg : ReportFormat.Png;
}

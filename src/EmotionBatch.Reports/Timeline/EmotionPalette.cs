using EmotionBatch.Core;
using ScottPlot;

namespace EmotionBatch.Reports.Timeline;

/// <summary>One colour per emotion, the same in every picture so that readers learn it once.</summary>
public static class EmotionPalette
{
    public static Color Angry { get; } = Color.FromHex("#D62728");
    public static Color Happy { get; } = Color.FromHex("#E8B400");
    public static Color Sad { get; } = Color.FromHex("#1F6FC5");
    public static Color Neutral { get; } = Color.FromHex("#9A9A9A");

    /// <summary>Colour of a label; an unknown label is drawn like neutral rather than failing the whole report.</summary>
    public static Color For(string? emotion) => emotion?.ToLowerInvariant() switch
    {
        EmotionLabels.Angry => Angry,
        EmotionLabels.Happy => Happy,
        EmotionLabels.Sad => Sad,
        _ => Neutral,
    };
}

using EmotionBatch.Core;
using EmotionBatch.Reports.Timeline;
using EmotionBatch.Testing;
using SkiaSharp;

namespace EmotionBatch.Reports.Tests;

public sealed class TimelineReportTests
{
    [Fact]
    public async Task Png_has_the_requested_size_real_content_and_every_band_colour()
    {
        using var temp = RepoPaths.NewTempFolder("timeline");
        var path = temp.File("call.png");
        await TimelineReport.SaveAsync(SampleDataset.LongCall(), path, ReportFormat.Png);

        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal(TimelineReport.DefaultWidth, bitmap.Width);
        Assert.Equal(TimelineReport.DefaultHeight, bitmap.Height);

        var pixels = bitmap.Pixels;
        var nonWhite = pixels.Count(p => p.Red < 245 || p.Green < 245 || p.Blue < 245);
        Assert.InRange(nonWhite / (double)pixels.Length, 0.25, 0.95);
        foreach (var label in EmotionLabels.All)
        {
            var colour = EmotionPalette.For(label);
            var count = pixels.Count(p => Near(p, colour.R, colour.G, colour.B));
            Assert.True(count > 500, $"only {count} pixels of the {label} band colour");
        }
    }

    [Fact]
    public void Text_is_drawn_with_an_installed_font()
    {
        var font = TimelineReport.ResolveFontName();
        Assert.Contains(font, SKFontManager.Default.FontFamilies);

        // The title band (above the plot) holds only text: dark pixels there mean glyphs were rendered.
        using var bitmap = SKBitmap.Decode(TimelineReport.RenderPng(SampleDataset.LongCall()));
        var dark = 0;
        for (var y = 0; y < 60; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var p = bitmap.GetPixel(x, y);
                dark += p.Red < 100 && p.Green < 100 && p.Blue < 100 ? 1 : 0;
            }
        }
        Assert.True(dark > 1000, $"only {dark} dark pixels in the title area: fonts may be missing (apt-get install fonts-dejavu-core)");
    }

    [Fact]
    public void Png_follows_a_custom_size()
    {
        using var bitmap = SKBitmap.Decode(TimelineReport.RenderPng(SampleDataset.LongCall(), 1000, 480));
        Assert.Equal(1000, bitmap.Width);
        Assert.Equal(480, bitmap.Height);
    }

    [Fact]
    public void Untrained_models_are_marked_on_the_picture()
    {
        var untrained = TimelineReport.RenderSvg(SampleDataset.LongCall("emotionbatch-untrained-wiring"));
        var trained = TimelineReport.RenderSvg(SampleDataset.LongCall());

        Assert.Contains("<svg", untrained);
        Assert.Contains("width=\"1600\"", untrained);
        Assert.Contains("UNTRAINED MODEL", untrained);
        Assert.DoesNotContain("UNTRAINED MODEL", trained);
        Assert.Contains("emotionbatch-default 1.0.0", trained);

        using var bitmap = SKBitmap.Decode(TimelineReport.RenderPng(SampleDataset.LongCall("emotionbatch-untrained-wiring")));
        Assert.True(bitmap.Pixels.Count(p => Near(p, 0xC6, 0x28, 0x28, 12)) > 2000, "the red note is missing");
    }

    [Fact]
    public void Long_recordings_get_clock_ticks_and_many_utterances_render()
    {
        var rows = Enumerable.Range(0, 1500).Select(i => new UtteranceRow(
            "long.wav", "file:///long.wav", "e", i, i * 4.0, i * 4.0 + 3, null, null, EmotionLabels.All[i % 4],
            0.25f, 0.25f, 0.25f, 0.25f, (float)Math.Sin(i / 50.0), (float)Math.Cos(i / 70.0), false, "m", "1", DateTime.UtcNow)).ToList();
        var svg = TimelineReport.RenderSvg(rows);
        Assert.Contains("time (h:mm:ss)", svg);
        Assert.Matches(@"\s1:\d\d:\d\d\s", svg);
    }

    [Fact]
    public void A_call_split_by_channel_gets_one_lane_per_party()
    {
        var rows = Enumerable.Range(0, 6).Select(i => new UtteranceRow(
            "call.wav", "file:///call.wav", "e", i, i * 3.0, i * 3.0 + 2.5, null, null, EmotionLabels.All[i % 4],
            0.25f, 0.25f, 0.25f, 0.25f, 0.1f, 0.2f, false, "m", "1", DateTime.UtcNow)
        {
            Channel = i % 2,
            SpeakerRole = i % 2 == 0 ? "agent" : "customer",
        }).ToList();

        var svg = TimelineReport.RenderSvg(rows);

        Assert.Contains("agent: emotion", svg);
        Assert.Contains("customer: emotion", svg);
        // Control: a mixed recording has the single lane of before, unlabelled.
        var mixed = TimelineReport.RenderSvg(rows.Select(r => r with { Channel = 0, SpeakerRole = null }).ToList());
        Assert.DoesNotContain(": emotion", mixed);
        Assert.Contains("emotion", mixed);
    }

    [Fact]
    public void Rejects_rows_of_several_recordings()
    {
        Assert.Throws<ArgumentException>(() => TimelineReport.CreatePlot(SampleDataset.All()));
        Assert.Throws<ArgumentException>(() => TimelineReport.CreatePlot([]));
    }

    private static bool Near(SKColor p, byte r, byte g, byte b, int tolerance = 3) =>
        Math.Abs(p.Red - r) <= tolerance && Math.Abs(p.Green - g) <= tolerance && Math.Abs(p.Blue - b) <= tolerance;
}

using EmotionBatch.Testing;

namespace EmotionBatch.Reports.Tests;

/// <summary>
/// Builds the made-up sample output used in the docs. Always into a temporary folder; with
/// EMOTIONBATCH_SAMPLE_OUTPUT set, also into that folder (kept), so the picture in docs/images can be redrawn with
/// <c>emotionbatch report --input $EMOTIONBATCH_SAMPLE_OUTPUT --recording calls/2026-11-03/call-0142.wav --output docs/images/timeline-example.png</c>.
/// </summary>
[Trait("Category", "Fast")]
public sealed class DocsExampleTests
{
    [Fact]
    public async Task Sample_output_renders_the_docs_example()
    {
        using var temp = RepoPaths.NewTempFolder("docs-example");
        var output = Environment.GetEnvironmentVariable("EMOTIONBATCH_SAMPLE_OUTPUT") is { Length: > 0 } kept ? kept : temp.File("out");
        await TestDatasetWriter.WriteUtterancesAsync(output, SampleDataset.All());
        await TestDatasetWriter.WriteErrorsAsync(output, SampleDataset.Failures());

        var picture = temp.File("timeline-example.png");
        var (code, _, stderr) = await ReportCommandsTests.RunAsync("report", "--input", output, "--recording", SampleDataset.LongCallId, "--output", picture);

        Assert.True(code == 0, stderr);
        Assert.True(new FileInfo(picture).Length > 20_000);
    }
}

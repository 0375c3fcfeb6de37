using System.Globalization;
using EmotionBatch.Testing;

namespace EmotionBatch.Reliability.Tests;

/// <summary>
/// A long recording is streamed, never held: the worker's peak resident memory on a long file stays close to its
/// peak on a short one. Length in minutes from EMOTIONBATCH_LONG_MINUTES (default 30; docs/reliability.md has a
/// 60-minute figure).
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class MemoryBoundTests : IDisposable
{
    /// <summary>Allowed growth of peak memory from a 10-second to a long file: a fixed cost, not per minute of audio.</summary>
    private const long AllowedGrowthBytes = 150L * 1024 * 1024;

    private readonly SpeechBatchFixture _batch;
    private readonly ITestOutputHelper _log;
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("memory");

    public MemoryBoundTests(SpeechBatchFixture batch, ITestOutputHelper log)
    {
        _batch = batch;
        _log = log;
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Peak_memory_on_a_long_recording_stays_near_that_of_a_short_one()
    {
        var minutes = int.TryParse(Environment.GetEnvironmentVariable("EMOTIONBATCH_LONG_MINUTES"), CultureInfo.InvariantCulture, out var configured) ? configured : 30;

        // Ten minutes of 8 kHz 8-bit audio: a few phrases of speech, then silence; looped to the wanted length.
        var piece = _temp.File("piece.wav");
        await TestAudio.RunFfmpegAsync([
            "-i", RepoPaths.JfkWav, "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
            "-filter_complex", "[0:a]aresample=8000,aformat=channel_layouts=mono[a];[1:a]atrim=duration=589[b];[a][b]concat=n=2:v=0:a=1",
            "-c:a", "pcm_u8", piece]);
        var longFolder = _temp.File("long");
        var shortFolder = _temp.File("short");
        Directory.CreateDirectory(longFolder);
        Directory.CreateDirectory(shortFolder);
        await TestAudio.RunFfmpegAsync(["-stream_loop", ((minutes / 10) - 1).ToString(CultureInfo.InvariantCulture), "-i", piece, "-c", "copy", Path.Combine(longFolder, "long.wav")]);
        File.Copy(RepoPaths.JfkWav, Path.Combine(shortFolder, "short.wav"));

        var (shortPeak, shortTime, _) = await RunAsync(shortFolder, "short");
        var (longPeak, longTime, output) = await RunAsync(longFolder, "long");
        Assert.Contains("1 completed", output);

        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"MEMORY {minutes} min file: peak working set {longPeak / 1048576.0:F0} MiB in {longTime.TotalSeconds:F0} s; 11 s file: {shortPeak / 1048576.0:F0} MiB in {shortTime.TotalSeconds:F0} s; growth {(longPeak - shortPeak) / 1048576.0:F0} MiB (allowed {AllowedGrowthBytes / 1048576} MiB)"));
        Assert.True(longPeak - shortPeak < AllowedGrowthBytes, $"peak grew from {shortPeak} to {longPeak} bytes");
    }

    private async Task<(long Peak, TimeSpan Elapsed, string Output)> RunAsync(string folder, string label)
    {
        var settings = WorkerProcess.BaseSettings(_temp.File("work-" + label));
        settings["EmotionBatch:Source:Kind"] = "Local";
        settings["EmotionBatch:Source:LocalPath"] = folder;
        settings["EmotionBatch:Output:Kind"] = "Local";
        settings["EmotionBatch:Output:LocalPath"] = _temp.File("out-" + label);
        using var worker = WorkerProcess.Start(settings, "run", "--once");
        while (!await worker.WaitForExitAsync(TimeSpan.FromMilliseconds(100)))
        {
            worker.SamplePeakWorkingSet();
            Assert.True(worker.Elapsed < TimeSpan.FromMinutes(8), "the long run did not finish:\n" + worker.Output);
        }
        Assert.True(worker.PeakWorkingSetBytes > 0, "no memory sample was taken");
        return (worker.PeakWorkingSetBytes, worker.Elapsed, worker.Output);
    }
}

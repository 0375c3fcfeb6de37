using System.Collections.Concurrent;
using System.Globalization;
using EmotionBatch.Core;
using EmotionBatch.Testing;
using EmotionBatch.Worker.Hosting;
using EmotionBatch.Worker.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace EmotionBatch.Worker.Tests;

/// <summary>
/// The pipeline hands the transcriber one channel's utterances at a time, in time order, in packs of at most
/// PackSeconds, and each transcript lands on its own utterance's row (a stand-in transcriber names what it was given).
/// </summary>
public sealed class PackedTranscriptionTests : IDisposable
{
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("packed-asr");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(12.0)]
    [InlineData(0.0)]
    public async Task Packs_are_per_channel_in_time_order_and_transcripts_reach_their_own_rows(double packSeconds)
    {
        var input = _temp.File($"in-{packSeconds}");
        Directory.CreateDirectory(input);
        File.Copy(Path.Combine(RepoPaths.Root, "samples", "recordings", "two-channel-call.wav"), Path.Combine(input, "call.wav"));
        var output = _temp.File($"out-{packSeconds}");
        var settings = WorkerHarness.BaseSettings(_temp.File($"work-{packSeconds}"));
        settings["EmotionBatch:Source:Kind"] = "Local";
        settings["EmotionBatch:Source:LocalPath"] = input;
        settings["EmotionBatch:Output:Kind"] = "Local";
        settings["EmotionBatch:Output:LocalPath"] = output;
        var transcriber = new NamingTranscriber(packSeconds);

        var builder = EmotionBatchHost.CreateBuilder([], settings);
        builder.Services.AddSingleton<ITranscriber>(transcriber);
        using (var host = builder.Build())
        {
            await host.StartAsync();
            var pass = await host.Services.GetRequiredService<BatchRunner>().RunPassAsync(progress: null, CancellationToken.None);
            await host.StopAsync();
            Assert.Equal(1, pass.Completed);
        }

        Assert.All(transcriber.Packs, pack =>
        {
            Assert.Single(pack.Select(u => u.Channel).Distinct());
            Assert.Equal(pack.Select(u => u.StartSeconds).Order(), pack.Select(u => u.StartSeconds));
            if (packSeconds > 0)
            {
                Assert.True(pack.Sum(u => u.DurationSeconds) <= packSeconds, "pack longer than PackSeconds");
            }
            else
            {
                Assert.Single(pack);
            }
        });
        var rows = DuckDbParquet.ReadRows(Path.Combine(output, "utterances", "**", "*.parquet"), orderBy: "utterance_index");
        Assert.Equal(transcriber.Packs.Sum(p => p.Count), rows.Count);
        Assert.All(rows, row =>
        {
            Assert.Equal(NamingTranscriber.Name((int)row["channel"]!, (double)row["start_seconds"]!), row["transcript"]);
            Assert.Equal(true, row["text_used"]);
        });
        // Packing gathers several utterances per call; without it every call holds one.
        Assert.True(packSeconds > 0 ? transcriber.Packs.Count < rows.Count : transcriber.Packs.Count == rows.Count);
    }

    private sealed class NamingTranscriber(double packSeconds) : ITranscriber
    {
        public ConcurrentQueue<IReadOnlyList<Utterance>> Packs { get; } = new();

        public bool IsEnabled => true;

        public double PackSeconds => packSeconds;

        public static string Name(int channel, double start) => string.Create(CultureInfo.InvariantCulture, $"channel {channel} at {start:0.000}");

        public Task<IReadOnlyList<Transcript?>> TranscribeAsync(IReadOnlyList<Utterance> utterances, CancellationToken cancellationToken)
        {
            Packs.Enqueue(utterances.ToList());
            return Task.FromResult<IReadOnlyList<Transcript?>>(utterances.Select(u => (Transcript?)new Transcript(Name(u.Channel ?? 0, u.StartSeconds), "en")).ToList());
        }
    }
}

using EmotionBatch.Core;
using EmotionBatch.Testing;

namespace EmotionBatch.Audio.Tests;

/// <summary>Runs alone: the memory it measures is the whole test process's, which other test classes would grow.</summary>
[CollectionDefinition(nameof(DecoderStreamingTests), DisableParallelization = true)]
public sealed class DecoderStreamingCollection;

[Collection(nameof(DecoderStreamingTests))]
public sealed class DecoderStreamingTests : IClassFixture<DecoderStreamingTests.LongRecording>
{
    private const int Rate = IAudioDecoder.SampleRate;
    private readonly LongRecording _recording;

    public DecoderStreamingTests(LongRecording recording) => _recording = recording;

    /// <summary>20 minutes of a quiet tone at 8 kHz: 19 MB on disk, 77 MB as 16 kHz float PCM.</summary>
    public sealed class LongRecording : IAsyncLifetime
    {
        public const double Seconds = 20 * 60;
        private readonly TempFolder _folder = RepoPaths.NewTempFolder("decode-long");

        public string Path { get; private set; } = "";

        public async Task InitializeAsync() =>
            Path = await TestAudio.ToneAsync(_folder.File("long.wav"), Seconds, frequencyHz: 300, sampleRate: 8000, amplitude: 0.05);

        public Task DisposeAsync()
        {
            _folder.Dispose();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_long_recording_streams_in_bounded_chunks_without_being_held_in_memory()
    {
        var decoder = Signal.Decoder();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        long expectedStart = 0;
        var count = 0;

        await foreach (var chunk in decoder.DecodeFileAsync(_recording.Path, CancellationToken.None))
        {
            Assert.Equal(expectedStart, chunk.StartSample);
            Assert.InRange(chunk.Samples.Length, 1, Rate);
            expectedStart += chunk.Samples.Length;
            if (++count % 60 == 0)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
            }
        }

        Assert.InRange(expectedStart / (double)Rate, LongRecording.Seconds - 0.1, LongRecording.Seconds + 0.1);
        // The whole recording would be 77 MB of floats; streaming keeps a chunk or two.
        Assert.True(peak < 8 * 1024 * 1024, $"managed memory grew by {peak / 1024 / 1024} MB while decoding");
    }

    [Fact]
    public async Task Cancellation_kills_ffmpeg()
    {
        using var cancellation = new CancellationTokenSource();
        var decoder = Signal.Decoder();
        var chunks = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in decoder.DecodeFileAsync(_recording.Path, cancellation.Token))
            {
                Assert.NotEmpty(FfmpegProcessesReading(_recording.Path));
                if (++chunks == 3)
                {
                    cancellation.Cancel();
                }
            }
        });

        Assert.Equal(3, chunks);
        await AssertNoFfmpegLeftAsync(_recording.Path);
    }

    [Fact]
    public async Task Leaving_the_loop_early_kills_ffmpeg()
    {
        await foreach (var _ in Signal.Decoder().DecodeFileAsync(_recording.Path, CancellationToken.None))
        {
            break;
        }
        await AssertNoFfmpegLeftAsync(_recording.Path);
    }

    private static async Task AssertNoFfmpegLeftAsync(string path)
    {
        // Kill is asynchronous; give the kernel a moment to reap it.
        for (var i = 0; i < 50 && FfmpegProcessesReading(path).Count > 0; i++)
        {
            await Task.Delay(20);
        }
        Assert.Empty(FfmpegProcessesReading(path));
    }

    /// <summary>Live processes whose command line names <paramref name="path"/> (Linux /proc).</summary>
    private static List<int> FfmpegProcessesReading(string path)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var commandLine = File.ReadAllText(System.IO.Path.Combine(dir, "cmdline"));
                var status = File.ReadAllText(System.IO.Path.Combine(dir, "status"));
                if (commandLine.Contains(path, StringComparison.Ordinal) && commandLine.StartsWith("ffmpeg", StringComparison.Ordinal)
                    && !status.Contains("State:\tZ", StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }
}

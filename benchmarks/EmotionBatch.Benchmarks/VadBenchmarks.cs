using BenchmarkDotNet.Attributes;
using EmotionBatch.Audio;
using EmotionBatch.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Benchmarks;

/// <summary>
/// Silero VAD over 120 s of PCM (3750 windows of 32 ms), strictly one window after another (1 lane) and in the default
/// 8 lanes per batch; divide by 3750 for the cost of one window.
/// </summary>
[MemoryDiagnoser]
public class VadBenchmarks
{
    private SileroSpeechSegmenter _segmenter = null!;
    private PcmChunk[] _chunks = null!;
    private const int Seconds = 120;

    [Params(1, 8)]
    public int Lanes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _segmenter = new SileroSpeechSegmenter(
            Options.Create(new VadOptions { ModelPath = BenchPaths.VadModel, Lanes = Lanes }), NullLogger<SileroSpeechSegmenter>.Instance);
        var pcm = BenchPaths.Waveform(Seconds * 16_000, 1);
        // Pauses, so utterances open and close as in speech.
        for (var s = 0; s < pcm.Length; s++)
        {
            if (s / 16_000 % 3 == 2)
            {
                pcm[s] *= 0.001f;
            }
        }
        _chunks = Enumerable.Range(0, Seconds).Select(i => new PcmChunk(i * 16_000L, pcm.AsMemory(i * 16_000, 16_000))).ToArray();
    }

    [Benchmark(Description = "VAD, 120 s of PCM")]
    public async Task<int> Segment()
    {
        var count = 0;
        await foreach (var _ in _segmenter.SegmentAsync(Replay(), VadPass.Primary, CancellationToken.None))
        {
            count++;
        }
        return count;
    }

    private async IAsyncEnumerable<PcmChunk> Replay()
    {
        foreach (var chunk in _chunks)
        {
            yield return chunk;
        }
        await Task.CompletedTask;
    }

    [GlobalCleanup]
    public void Cleanup() => _segmenter.Dispose();
}

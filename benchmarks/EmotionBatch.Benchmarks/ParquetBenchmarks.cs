using BenchmarkDotNet.Attributes;
using EmotionBatch.Core;
using EmotionBatch.Storage;

namespace EmotionBatch.Benchmarks;

/// <summary>Committing one recording's rows to a local result store: Parquet serialisation plus ledger records.</summary>
[MemoryDiagnoser]
public class ParquetBenchmarks
{
    private string _folder = null!;
    private ParquetResultStore _store = null!;
    private RecordingRef _recording = null!;
    private List<UtteranceRow> _rows = null!;

    [Params(50, 1000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "emotionbatch-parquet-bench-" + Guid.NewGuid().ToString("N")[..8]);
        _store = ParquetResultStore.ForLocalFolder(_folder);
        _recording = new RecordingRef("calls/2026/bench.mp3", new Uri("file:///data/calls/2026/bench.mp3"), "etag-1", 1_000_000, DateTimeOffset.UnixEpoch);
        var random = new Random(5);
        _rows = Enumerable.Range(0, Rows).Select(i => new UtteranceRow(
            _recording.Id, _recording.Uri.ToString(), _recording.ETag, i, i * 4.0, i * 4.0 + 3.2,
            i % 3 == 0 ? null : "thank you so much that is exactly what I needed", i % 3 == 0 ? null : "en",
            EmotionLabels.All[i % 4], 0.1f, 0.2f, 0.3f, 0.4f, (float)random.NextDouble(), (float)random.NextDouble(),
            i % 3 != 0, "emotionbatch-bench", "1.0.0", DateTime.UnixEpoch)).ToList();
    }

    [Benchmark(Description = "commit one recording's rows")]
    public Task Commit() => _store.CommitAsync(_recording, _rows, CancellationToken.None);

    [GlobalCleanup]
    public void Cleanup()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { /* temporary folder */ }
    }
}

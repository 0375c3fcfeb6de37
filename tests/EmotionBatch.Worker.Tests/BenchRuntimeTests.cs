using System.Text.Json.Nodes;
using Xunit;

namespace EmotionBatch.Worker.Tests;

/// <summary>The bench runs the pipeline with the worker's runtime settings (GC mode, memory conservation), or it would measure another program.</summary>
[Trait("Category", "Fast")]
public sealed class BenchRuntimeTests
{
    private static Dictionary<string, string> GcSettings(string executable)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, executable + ".runtimeconfig.json")))!;
        var properties = config["runtimeOptions"]?["configProperties"]?.AsObject() ?? [];
        return properties.Where(p => p.Key.StartsWith("System.GC.", StringComparison.Ordinal))
            .ToDictionary(p => p.Key, p => p.Value!.ToJsonString(), StringComparer.Ordinal);
    }

    [Fact]
    public void The_bench_and_the_worker_run_with_the_same_garbage_collector_settings()
    {
        var worker = GcSettings("emotionbatch");
        Assert.Contains("System.GC.ConserveMemory", worker.Keys);
        Assert.Equal(worker.OrderBy(p => p.Key), GcSettings("emotionbatch-bench").OrderBy(p => p.Key));
    }
}

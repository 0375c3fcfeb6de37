using System.CommandLine;
using EmotionBatch.Benchmarking;

var root = BenchCommand.Configure(new RootCommand(
    "emotionbatch-bench: times each stage of the EmotionBatch worker and the whole pipeline on generated recordings, and reports real-time factors."));
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

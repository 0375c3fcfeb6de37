using System.CommandLine;
using EmotionBatch.Reports.Cli;
using EmotionBatch.Worker.Cli;

var root = new RootCommand("EmotionBatch: per-utterance emotion analytics for archives of recorded speech.");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ProcessCommand.Create());
root.Subcommands.Add(ReportCommands.CreateReportCommand());
root.Subcommands.Add(ReportCommands.CreateSummarizeCommand());
root.Subcommands.Add(EncodeTextCommand.Create());
root.Subcommands.Add(EmotionBatch.Benchmarking.BenchCommand.CreateBenchCommand(BenchPipeline.RunAsync));

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

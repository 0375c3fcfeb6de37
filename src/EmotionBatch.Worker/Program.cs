using System.CommandLine;
using EmotionBatch.Reports.Cli;
using EmotionBatch.Worker.Cli;
using EmotionBatch.Worker.Hosting;
using Microsoft.Extensions.Options;

var root = new RootCommand("EmotionBatch: per-utterance emotion analytics for archives of recorded speech.");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ProcessCommand.Create());
root.Subcommands.Add(ReportCommands.CreateReportCommand());
root.Subcommands.Add(ReportCommands.CreateSummarizeCommand());
root.Subcommands.Add(ReportCommands.CreateEvaluateCommand());
root.Subcommands.Add(EncodeTextCommand.Create());
root.Subcommands.Add(EncodeAudioCommand.Create());
root.Subcommands.Add(SegmentCommand.Create());
root.Subcommands.Add(VerifyBundleCommand.Create());

// Start-up errors (invalid settings, an unusable output folder) are printed once, as a message that names the
// setting, not as a stack trace; anything else keeps its stack trace.
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
}
catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException or IOException or UnauthorizedAccessException)
{
    await Console.Error.WriteLineAsync($"emotionbatch: {ex.Message}").ConfigureAwait(false);
    return ExitCodes.CouldNotStart;
}
catch (OperationCanceledException)
{
    // Ctrl+C or SIGTERM: what was in flight is abandoned uncommitted and redone next time.
    return ExitCodes.Interrupted;
}
catch (Exception ex)
{
    await Console.Error.WriteLineAsync($"emotionbatch: unexpected error: {ex}").ConfigureAwait(false);
    return ExitCodes.CouldNotStart;
}

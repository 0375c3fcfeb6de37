using EmotionBatch.Core;
using EmotionBatch.Worker.Pipeline;

namespace EmotionBatch.Worker.Cli;

/// <summary>One line per recording as it finishes, then a summary; plain text so it reads the same in a terminal and a log.</summary>
public sealed class ProgressDisplay : IProgress<RecordingOutcome>
{
    private readonly TextWriter _writer;
    private readonly object _gate = new();
    private int _count;

    public ProgressDisplay(TextWriter writer) => _writer = writer;

    public void Report(RecordingOutcome value)
    {
        lock (_gate)
        {
            _count++;
            var id = TerminalText.Escape(value.Recording.Id);
            var reason = TerminalText.Escape(value.FailureReason);
            var line = value.Kind switch
            {
                OutcomeKind.Completed => $"[{_count,4}] done    {id}: {value.Utterances} utterances, {value.AudioSeconds:F1} s audio in {value.Elapsed.TotalSeconds:F1} s ({value.RealTimeFactor:F0}x real time)",
                OutcomeKind.Failed => $"[{_count,4}] FAILED  {id}: {reason}",
                OutcomeKind.NoSpeech => $"[{_count,4}] silent  {id}: {reason}",
                OutcomeKind.FailedEarlier => $"[{_count,4}] skipped {id} (failed in an earlier pass; see the errors dataset)",
                _ => $"[{_count,4}] skipped {id} (already processed)",
            };
            _writer.WriteLine(line);
        }
    }

    public void WriteSummary(PassSummary summary)
    {
        var rtf = summary.Elapsed.TotalSeconds > 0 ? summary.AudioSeconds / summary.Elapsed.TotalSeconds : 0;
        _writer.WriteLine(
            $"{summary.Listed} recordings: {summary.Completed} processed, {summary.Failed} failed, {summary.Skipped} already done, {summary.NoSpeech} without speech, {summary.FailedEarlier} failed earlier; " +
            $"{summary.Utterances} utterances from {summary.AudioSeconds:F1} s of audio in {summary.Elapsed.TotalSeconds:F1} s ({rtf:F1}x real time)");
    }
}

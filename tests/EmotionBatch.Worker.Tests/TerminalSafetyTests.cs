using EmotionBatch.Core;
using EmotionBatch.Worker.Cli;
using EmotionBatch.Worker.Observability;
using EmotionBatch.Worker.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EmotionBatch.Worker.Tests;

/// <summary>Recording names are chosen by whoever drops files into the source: they must not drive the terminal.</summary>
[Trait("Category", "Fast")]
public sealed class TerminalSafetyTests
{
    private const string Hostile = "calls/\u001b[2J\u001b[31mred\r\nfake: all done\u202Evaw.exe.wav";

    [Fact]
    public void Control_characters_and_bidi_overrides_become_visible_escapes_and_plain_text_is_unchanged()
    {
        Assert.Equal("calls/\\x1b[2J\\x1b[31mred\\x0d\\x0afake: all done\\u202evaw.exe.wav", TerminalText.Escape(Hostile));
        Assert.Equal("calls/Müller 2026-12-03 (1).wav", TerminalText.Escape("calls/Müller 2026-12-03 (1).wav"));
        Assert.Equal(string.Empty, TerminalText.Escape(null));
    }

    [Fact]
    public void Progress_lines_escape_the_recording_name_and_the_reason()
    {
        var output = new StringWriter();
        var display = new ProgressDisplay(output);
        var recording = new RecordingRef(Hostile, new Uri("file:///x.wav"), "tag", 1, DateTimeOffset.UnixEpoch);

        display.Report(new RecordingOutcome(recording, OutcomeKind.Failed, 0, 0, TimeSpan.Zero, "probe: bad\u001b]0;title\u0007"));
        display.Report(new RecordingOutcome(new RecordingRef("plain.wav", new Uri("file:///p.wav"), "t", 1, DateTimeOffset.UnixEpoch),
            OutcomeKind.Completed, 3, 2.0, TimeSpan.FromSeconds(1)));

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain(lines[0], char.IsControl);
        Assert.Contains("\\x1b[2J", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("probe: bad\\x1b]0;title\\x07", lines[0], StringComparison.Ordinal);
        Assert.Contains("done    plain.wav: 3 utterances", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Log_lines_escape_arguments_and_exceptions_and_keep_one_entry_on_one_line()
    {
        var formatter = new EscapingConsoleFormatter();
        var output = new StringWriter();
        var state = $"Failed {Hostile} at probe";
        var entry = new LogEntry<string>(LogLevel.Warning, "EmotionBatch.Worker.Pipeline.RecordingPipeline", new EventId(7), state,
            new InvalidOperationException("line one\nline two"), (s, _) => s);

        formatter.Write(entry, scopeProvider: null, output);

        var text = output.ToString();
        Assert.Single(text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain(text.TrimEnd('\n', '\r'), char.IsControl);
        Assert.Contains(" warn: EmotionBatch.Worker.Pipeline.RecordingPipeline[7] Failed calls/\\x1b[2J", text, StringComparison.Ordinal);
        Assert.Contains("line one\\x0aline two", text, StringComparison.Ordinal);
    }
}

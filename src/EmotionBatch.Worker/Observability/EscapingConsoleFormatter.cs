using System.Globalization;
using EmotionBatch.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace EmotionBatch.Worker.Observability;

/// <summary>
/// One plain line per log entry, "HH:mm:ss level: Category[EventId] message", like the single-line simple console
/// formatter, but with every control character of the message and exception escaped (<see cref="TerminalText"/>):
/// log arguments carry recording names, which anyone who can drop a file into the source chooses.
/// </summary>
public sealed class EscapingConsoleFormatter : ConsoleFormatter
{
    public const string FormatterName = "emotionbatch";

    private readonly TimeProvider _clock;

    public EscapingConsoleFormatter() : this(TimeProvider.System)
    {
    }

    public EscapingConsoleFormatter(TimeProvider clock) : base(FormatterName) => _clock = clock;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }
        textWriter.Write(_clock.GetLocalNow().ToString("HH:mm:ss ", CultureInfo.InvariantCulture));
        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(": ");
        textWriter.Write(logEntry.Category);
        textWriter.Write('[');
        textWriter.Write(logEntry.EventId.Id.ToString(CultureInfo.InvariantCulture));
        textWriter.Write("] ");
        textWriter.Write(TerminalText.Escape(message));
        if (logEntry.Exception is not null)
        {
            // Kept on the same line, as the single-line formatter does; its line breaks become visible escapes.
            textWriter.Write(' ');
            textWriter.Write(TerminalText.Escape(logEntry.Exception.ToString()));
        }
        textWriter.WriteLine();
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}

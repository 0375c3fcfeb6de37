using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EmotionBatch.Testing;

/// <summary>Collects every formatted log message, so tests can check what an operator would read.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _queue = new();

    public IReadOnlyList<string> Messages => _queue.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(_queue);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<string> queue) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            queue.Enqueue(formatter(state, exception));
    }
}

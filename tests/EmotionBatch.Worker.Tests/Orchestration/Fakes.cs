using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Hosting;

namespace EmotionBatch.Worker.Tests.Orchestration;

/// <summary>How long a test waits for a signal from a background loop before it counts as a failure.</summary>
internal static class Signals
{
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);
}

internal static class TestRecordings
{
    public static RecordingRef Make(string id) =>
        new(id, new Uri($"file:///recordings/{id}.wav"), $"etag-{id}", 1024, new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero));

    public static RecordingOutcome Outcome(RecordingRef recording, OutcomeKind kind, int utterances = 0, double audioSeconds = 0) =>
        new(recording, kind, utterances, audioSeconds, TimeSpan.FromSeconds(1), kind == OutcomeKind.Failed ? "decoder failed" : null);
}

/// <summary>Lists a fixed set of recordings in order.</summary>
internal sealed class FakeSource(params RecordingRef[] recordings) : IRecordingSource
{
    public string Description => "fake source";

    public IAsyncEnumerable<RecordingRef> ListAsync(CancellationToken cancellationToken) => ListCoreAsync(cancellationToken);

    public Task<LocalRecording> FetchAsync(RecordingRef recording, string workFolder, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Fetching is the processor's job, not the batch runner's.");

    private async IAsyncEnumerable<RecordingRef> ListCoreAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var recording in recordings)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return recording;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }
}

/// <summary>Answers the state set for each recording (New when none is set).</summary>
internal sealed class FakeStore : IResultStore
{
    private readonly ConcurrentDictionary<string, RecordingState> _states = new();

    public string Description => "fake store";

    public void SetState(string recordingId, RecordingState state) => _states[recordingId] = state;

    public Task<RecordingState> GetStateAsync(RecordingRef recording, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_states.GetValueOrDefault(recording.Id, new RecordingState(RecordingStatus.New, 0, null)));
    }

    public Task CommitAsync(RecordingRef recording, IReadOnlyList<UtteranceRow> rows, double? recordingDurationSeconds, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Commits are the processor's job, not the batch runner's.");

    public Task RecordFailureAsync(RecordingRef recording, FailureRow failure, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Failures are recorded by the processor, not the batch runner.");
}

/// <summary>Grants every claim except those held elsewhere, and keeps the claims it granted for inspection.</summary>
internal sealed class FakeClaims : IRecordingClaims
{
    private readonly ConcurrentDictionary<string, FakeClaim> _granted = new();
    private readonly ConcurrentQueue<string> _requested = new();

    /// <summary>Recordings whose claim another worker holds. Set before the pass.</summary>
    public HashSet<string> HeldElsewhere { get; } = [];

    /// <summary>Runs right after a claim is granted, before the runner looks at the state again.</summary>
    public Action<RecordingRef>? OnGranted { get; set; }

    public IReadOnlyCollection<string> Requested => [.. _requested];

    /// <summary>The latest claim granted on <paramref name="recordingId"/>.</summary>
    public FakeClaim this[string recordingId] => _granted[recordingId];

    public Task<IRecordingClaim?> TryClaimAsync(RecordingRef recording, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _requested.Enqueue(recording.Id);
        if (HeldElsewhere.Contains(recording.Id))
        {
            return Task.FromResult<IRecordingClaim?>(null);
        }
        var claim = new FakeClaim();
        _granted[recording.Id] = claim;
        OnGranted?.Invoke(recording);
        return Task.FromResult<IRecordingClaim?>(claim);
    }
}

internal sealed class FakeClaim : IRecordingClaim
{
    private readonly CancellationTokenSource _lost = new();
    private volatile bool _disposed;

    public CancellationToken Lost => _lost.Token;

    public bool Disposed => _disposed;

    /// <summary>What a failed renewal or a taken lease does to a real claim.</summary>
    public void Lose() => _lost.Cancel();

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        return ValueTask.CompletedTask;
    }
}

/// <summary>Records each call and how many ran at once; what a call returns is up to <see cref="Handler"/>.</summary>
internal sealed class FakeProcessor : IRecordingProcessor
{
    private readonly ConcurrentQueue<(string Id, int Attempt)> _calls = new();
    private readonly Lock _gate = new();
    private int _inFlight;
    private int _maxInFlight;

    public Func<RecordingRef, int, CancellationToken, Task<RecordingOutcome>> Handler { get; set; } =
        (recording, _, _) => Task.FromResult(TestRecordings.Outcome(recording, OutcomeKind.Completed, utterances: 1, audioSeconds: 1));

    public IReadOnlyList<(string Id, int Attempt)> Calls => [.. _calls];

    public IReadOnlyList<string> ProcessedIds => [.. _calls.Select(c => c.Id).Order(StringComparer.Ordinal)];

    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    public int MaxInFlight
    {
        get
        {
            lock (_gate)
            {
                return _maxInFlight;
            }
        }
    }

    public async Task<RecordingOutcome> ProcessAsync(RecordingRef recording, int attempt, CancellationToken cancellationToken)
    {
        _calls.Enqueue((recording.Id, attempt));
        lock (_gate)
        {
            _inFlight++;
            _maxInFlight = Math.Max(_maxInFlight, _inFlight);
        }
        try
        {
            return await Handler(recording, attempt, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _inFlight--;
            }
        }
    }
}

/// <summary>Collects outcomes as they are reported, on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
internal sealed class CollectingProgress : IProgress<RecordingOutcome>
{
    private readonly ConcurrentQueue<RecordingOutcome> _outcomes = new();

    public IReadOnlyDictionary<string, OutcomeKind> KindById => _outcomes.ToDictionary(o => o.Recording.Id, o => o.Kind);

    public void Report(RecordingOutcome value) => _outcomes.Enqueue(value);
}

/// <summary>A pass runner whose passes are given by the test; counts its calls and signals each one.</summary>
internal sealed class FakePassRunner(Func<int, CancellationToken, Task<PassSummary>> pass) : IPassRunner
{
    private readonly TaskCompletionSource _firstCall = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public Task FirstCall => _firstCall.Task;

    public Task<PassSummary> RunPassAsync(IProgress<RecordingOutcome>? progress, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls);
        _firstCall.TrySetResult();
        return pass(call, cancellationToken);
    }
}

internal sealed class FakeLifetime : IHostApplicationLifetime, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private int _stopRequests;

    public CancellationToken ApplicationStarted => CancellationToken.None;

    public CancellationToken ApplicationStopping => _stopping.Token;

    public CancellationToken ApplicationStopped => CancellationToken.None;

    public void Dispose() => _stopping.Dispose();

    public int StopRequests => Volatile.Read(ref _stopRequests);

    public void StopApplication()
    {
        Interlocked.Increment(ref _stopRequests);
        _stopping.Cancel();
    }
}

/// <summary>
/// A <see cref="FakeTimeProvider"/> that signals each timer it creates. Task.Delay creates its timer only once the
/// delay starts, and Advance fires only timers that exist, so a test waits for the timer before it advances.
/// </summary>
internal sealed class SignallingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock _gate = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private int _created;

    public int TimersCreated
    {
        get
        {
            lock (_gate)
            {
                return _created;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_gate)
        {
            _created++;
            foreach (var waiter in _waiters.Where(w => w.Count <= _created).ToList())
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
        return timer;
    }

    /// <summary>Completes once <paramref name="count"/> timers have been created in all.</summary>
    public Task WaitForTimersAsync(int count)
    {
        lock (_gate)
        {
            if (_created >= count)
            {
                return Task.CompletedTask;
            }
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task.WaitAsync(Signals.Guard);
        }
    }
}

/// <summary>
/// A real <see cref="PipelineTelemetry"/> over its own meter factory, released together; sums the long counters its
/// meter reports (only its own: tests running side by side have meters of the same name).
/// </summary>
internal sealed class TestTelemetry : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new(StringComparer.Ordinal);

    public TestTelemetry()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
            foreach (var tag in tags)
            {
                _sums.AddOrUpdate($"{instrument.Name}{{{tag.Key}={tag.Value}}}", value, (_, sum) => sum + value);
            }
        });
        _listener.Start();
        Telemetry = new PipelineTelemetry(factory);
    }

    public PipelineTelemetry Telemetry { get; }

    /// <summary>What the counter <paramref name="instrument"/> has added up to, over all tags or for one (<c>found=True</c>).</summary>
    public long Sum(string instrument, string? tag = null) => _sums.GetValueOrDefault(tag is null ? instrument : $"{instrument}{{{tag}}}");

    public void Dispose()
    {
        _listener.Dispose();
        Telemetry.Dispose();
        _services.Dispose();
    }
}

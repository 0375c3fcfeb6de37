using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace EmotionBatch.Worker.Tests.Orchestration;

/// <summary>Fetches each recording as a real file in the work folder, deleted on dispose, so disposal can be observed.</summary>
internal sealed class FetchingSource : IRecordingSource
{
    private readonly ConcurrentQueue<(string Id, string WorkFolder)> _fetches = new();
    private readonly ConcurrentQueue<string> _paths = new();

    public string Description => "fetching source";

    /// <summary>When set, every fetch throws it.</summary>
    public Exception? Failure { get; set; }

    public IReadOnlyList<(string Id, string WorkFolder)> Fetches => [.. _fetches];

    /// <summary>The local files handed out; LocalRecording is sealed, so its disposal shows as the file being gone.</summary>
    public IReadOnlyList<string> Paths => [.. _paths];

    public IAsyncEnumerable<RecordingRef> ListAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("Listing is the batch runner's job, not the pipeline's.");

    public async Task<LocalRecording> FetchAsync(RecordingRef recording, string workFolder, CancellationToken cancellationToken)
    {
        _fetches.Enqueue((recording.Id, workFolder));
        if (Failure is not null)
        {
            throw Failure;
        }
        var path = Path.Combine(workFolder, $"{recording.Key}.wav");
        await File.WriteAllBytesAsync(path, new byte[16], cancellationToken).ConfigureAwait(false);
        _paths.Enqueue(path);
        return new LocalRecording(recording, path, deleteOnDispose: true);
    }
}

/// <summary>Opens every path as <see cref="Audio"/>, or refuses it with <see cref="Refusal"/>.</summary>
internal sealed class FakeDecoder(FakeAudio audio) : IAudioDecoder
{
    private readonly ConcurrentQueue<(string Path, bool Existed)> _opens = new();

    public FakeAudio Audio { get; } = audio;

    public Exception? Refusal { get; set; }

    /// <summary>Each path opened, and whether the fetched file was still there when the decoder opened it.</summary>
    public IReadOnlyList<(string Path, bool Existed)> Opens => [.. _opens];

    /// <summary>Where set, every open gets a new audio from it (kept in <see cref="Opened"/>) instead of <see cref="Audio"/>.</summary>
    public Func<FakeAudio>? NewAudio { get; set; }

    private readonly ConcurrentQueue<FakeAudio> _opened = new();

    public IReadOnlyList<FakeAudio> Opened => [.. _opened];

    /// <summary>Refuse the open with this number (1-based), e.g. 2 for the VAD's fallback pass.</summary>
    public (int Open, Exception Error)? RefuseOpen { get; set; }

    public Task<DecodingAudio> OpenAsync(string path, CancellationToken cancellationToken)
    {
        _opens.Enqueue((path, File.Exists(path)));
        if (RefuseOpen is { } refuse && refuse.Open == _opens.Count)
        {
            return Task.FromException<DecodingAudio>(refuse.Error);
        }
        if (Refusal is not null)
        {
            return Task.FromException<DecodingAudio>(Refusal);
        }
        if (NewAudio is null)
        {
            return Task.FromResult<DecodingAudio>(Audio);
        }
        var audio = NewAudio();
        _opened.Enqueue(audio);
        return Task.FromResult<DecodingAudio>(audio);
    }
}

/// <summary>
/// Decoded audio from a list of chunks, optionally failing after some of them or going on until cancelled; counts its
/// disposals and signals when a read was stopped by cancellation.
/// </summary>
internal sealed class FakeAudio(AudioInfo info, IReadOnlyList<PcmChunk> chunks) : DecodingAudio(info)
{
    // Bounds an endless read whose cancellation never comes, so a failing test does not spin for ever.
    private const int MaxEndlessChunks = 10_000;

    private readonly TaskCompletionSource _readCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposals;

    public FakeAudio(params PcmChunk[] chunks)
        : this(new AudioInfo("/work/fake.wav", 42.5, IAudioDecoder.SampleRate, 1, "wav"), chunks)
    {
    }

    /// <summary>Thrown once this many chunks have been read.</summary>
    public (int AfterChunks, Exception Error)? Failure { get; set; }

    /// <summary>The failure waits for this, so a test decides what the rest of the pipeline has done by then.</summary>
    public Task FailureHeldUntil { get; set; } = Task.CompletedTask;

    /// <summary>After the listed chunks, repeat the last one (moved on in time) until the read is cancelled.</summary>
    public bool Endless { get; set; }

    public int Disposals => Volatile.Read(ref _disposals);

    public Task ReadCancelled => _readCancelled.Task;

    /// <summary>Completes when the read has thrown <see cref="Failure"/>.</summary>
    public Task Failed => _failed.Task;

    public override async IAsyncEnumerable<PcmChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var read = 0;
        var next = 0L;
        try
        {
            while (read < chunks.Count || (Endless && read < MaxEndlessChunks))
            {
                if (Failure is { } failure && read == failure.AfterChunks)
                {
                    await FailureHeldUntil.ConfigureAwait(false);
                    _failed.TrySetResult();
                    throw failure.Error;
                }
                cancellationToken.ThrowIfCancellationRequested();
                var chunk = read < chunks.Count ? chunks[read] : chunks[^1] with { StartSample = next };
                next = chunk.StartSample + chunk.Samples.Length;
                read++;
                yield return chunk;
                // A real decoder waits on its process between chunks; this keeps the consumer from being starved.
                await Task.Yield();
            }
        }
        finally
        {
            if (cancellationToken.IsCancellationRequested)
            {
                _readCancelled.TrySetResult();
            }
        }
    }

    public override ValueTask DisposeAsync()
    {
        Interlocked.Increment(ref _disposals);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// An analyser whose result is up to <see cref="Handler"/> (<see cref="FallbackHandler"/>, where set, for the VAD's
/// fallback pass); remembers what it was given.
/// </summary>
internal sealed class FakeAnalyser : IUtteranceAnalyser
{
    private readonly ConcurrentQueue<(RecordingRef Recording, DecodingAudio Audio, VadPass Pass)> _calls = new();

    public Func<CancellationToken, Task<IReadOnlyList<UtteranceRow>>> Handler { get; set; } =
        _ => Task.FromResult<IReadOnlyList<UtteranceRow>>([]);

    public Func<CancellationToken, Task<IReadOnlyList<UtteranceRow>>>? FallbackHandler { get; set; }

    public IReadOnlyList<(RecordingRef Recording, DecodingAudio Audio, VadPass Pass)> Calls => [.. _calls];

    public Task<IReadOnlyList<UtteranceRow>> AnalyseAsync(RecordingRef recording, DecodingAudio audio, VadPass pass, CancellationToken cancellationToken)
    {
        _calls.Enqueue((recording, audio, pass));
        return (pass == VadPass.Fallback && FallbackHandler is not null ? FallbackHandler : Handler)(cancellationToken);
    }
}

/// <summary>A result store that keeps what was committed and what failed.</summary>
internal sealed class RecordingStore : IResultStore
{
    private readonly ConcurrentQueue<(RecordingRef Recording, IReadOnlyList<UtteranceRow> Rows, double? DurationSeconds)> _commits = new();
    private readonly ConcurrentQueue<FailureRow> _failures = new();

    public string Description => "recording store";

    public IReadOnlyList<(RecordingRef Recording, IReadOnlyList<UtteranceRow> Rows, double? DurationSeconds)> Commits => [.. _commits];

    public IReadOnlyList<FailureRow> Failures => [.. _failures];

    public Task<RecordingState> GetStateAsync(RecordingRef recording, CancellationToken cancellationToken) =>
        Task.FromResult(new RecordingState(RecordingStatus.New, 0, null));

    public Task CommitAsync(RecordingRef recording, IReadOnlyList<UtteranceRow> rows, double? recordingDurationSeconds, CancellationToken cancellationToken)
    {
        _commits.Enqueue((recording, rows, recordingDurationSeconds));
        return Task.CompletedTask;
    }

    public Task RecordFailureAsync(RecordingRef recording, FailureRow failure, CancellationToken cancellationToken)
    {
        _failures.Enqueue(failure);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Voice activity detection reduced to its contract: every chunk holding any sound is one utterance covering exactly
/// that chunk, numbered from 0 per stream, as the real segmenter numbers each stream it is given.
/// </summary>
internal sealed class ChunkSegmenter : ISpeechSegmenter
{
    public async IAsyncEnumerable<Utterance> SegmentAsync(IAsyncEnumerable<PcmChunk> pcm, VadPass pass, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var index = 0;
        await foreach (var chunk in pcm.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var samples = chunk.Samples.ToArray();
            if (samples.All(sample => sample == 0))
            {
                continue;
            }
            var start = chunk.StartSample / (double)IAudioDecoder.SampleRate;
            yield return new Utterance(index++, start, start + samples.Length / (double)IAudioDecoder.SampleRate, samples) { Channel = chunk.Channel };
        }
    }
}

/// <summary>Transcribes each utterance as "said at {start} on {channel}", so every row's text tells whose it is.</summary>
internal sealed class FakeTranscriber(bool enabled, double packSeconds) : ITranscriber
{
    private readonly ConcurrentQueue<IReadOnlyList<Utterance>> _calls = new();

    public bool IsEnabled => enabled;

    public double PackSeconds => packSeconds;

    public Exception? Failure { get; set; }

    public IReadOnlyList<IReadOnlyList<Utterance>> Calls => [.. _calls];

    /// <summary>Returns one transcript fewer than it was given, as a broken recogniser might.</summary>
    public bool LosesOne { get; set; }

    public static string TextOf(double startSeconds, int? channel) => $"said at {startSeconds:0.0} on {channel ?? 0}";

    public Task<IReadOnlyList<Transcript?>> TranscribeAsync(IReadOnlyList<Utterance> utterances, CancellationToken cancellationToken)
    {
        _calls.Enqueue([.. utterances]);
        if (Failure is not null)
        {
            throw Failure;
        }
        return Task.FromResult<IReadOnlyList<Transcript?>>(
            [.. utterances.Skip(LosesOne ? 1 : 0).Select(u => new Transcript(TextOf(u.StartSeconds, u.Channel), "en"))]);
    }
}

/// <summary>
/// Predicts the first sample of each input as its valence, so a row shows which utterance's audio it was given;
/// remembers every call.
/// </summary>
internal sealed class FakeEmotionModel(int preferredCallSize) : IEmotionModel
{
    private readonly ConcurrentQueue<IReadOnlyList<EmotionInput>> _calls = new();
    private readonly Lock _gate = new();
    private readonly List<(int Inputs, TaskCompletionSource Signal)> _waiters = [];
    private int _inputs;

    public ModelBundleInfo Bundle { get; } = new("fake-model", "1.0", Trained: false);

    public int PreferredBatchSize => 1;

    public int PreferredCallSize => preferredCallSize;

    public Exception? Failure { get; set; }

    /// <summary>Returns one prediction fewer than it was given, as a broken model might.</summary>
    public bool LosesOne { get; set; }

    public IReadOnlyList<IReadOnlyList<EmotionInput>> Calls => [.. _calls];

    /// <summary>Completes once the model has been handed <paramref name="inputs"/> inputs in all.</summary>
    public Task SeenAsync(int inputs)
    {
        lock (_gate)
        {
            if (_inputs >= inputs)
            {
                return Task.CompletedTask;
            }
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((inputs, signal));
            return signal.Task;
        }
    }

    public async Task<IReadOnlyList<EmotionPrediction>> PredictAsync(IReadOnlyList<EmotionInput> batch, CancellationToken cancellationToken)
    {
        _calls.Enqueue([.. batch]);
        lock (_gate)
        {
            _inputs += batch.Count;
            foreach (var waiter in _waiters.Where(w => w.Inputs <= _inputs).ToList())
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
        if (Failure is not null)
        {
            throw Failure;
        }
        return [.. batch.Skip(LosesOne ? 1 : 0).Select(input => new EmotionPrediction(EmotionLabels.Neutral, 0.1f, 0.1f, 0.1f, 0.7f, input.Samples.Span[0], 0.5f))];
    }
}

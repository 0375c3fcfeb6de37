using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EmotionBatch.Core;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Audio;

/// <summary>
/// Cuts a recording's streams into utterances: a mixed recording goes straight to the VAD; a recording decoded channel
/// by channel gets one VAD state per channel, run side by side, and each utterance is tagged with its channel.
/// Line echo (the other party, faintly and a little late, on this channel) must not become speech under the wrong
/// role: the VAD hears each channel with every 10 ms silenced in which another channel was, within the last
/// <see cref="EchoDelayMilliseconds"/>, <see cref="DecoderOptions.CrosstalkDecibels"/> or more louder (an echo
/// suppressor, as telephone lines have), and an utterance that is still that much quieter than another channel over
/// its whole length is dropped. The utterances themselves carry the channel's audio as recorded, not the gated copy.
/// Utterances of different channels arrive in the order their VADs find them, not in time order.
/// </summary>
public sealed class ChannelSegmenter(ISpeechSegmenter segmenter, IOptions<DecoderOptions> options, IOptions<VadOptions> vadOptions)
{
    /// <summary>Line echo arrives up to this late on the other channel (telephone echo paths: 20-300 ms).</summary>
    public const int EchoDelayMilliseconds = 300;

    private const int LaneChunks = 4;
    private const int Rate = IAudioDecoder.SampleRate;

    private readonly DecoderOptions _options = options.Value;

    // The VAD hands back an utterance up to a whole block of lanes after its audio went in: that much recorded audio is
    // kept per channel to cut the utterance from.
    private readonly long _historySamples = (long)((vadOptions.Value.Lanes * vadOptions.Value.LaneSeconds + vadOptions.Value.MaxUtteranceSeconds + 30) * Rate);

    /// <summary>The configured role of a channel; null for a mixed recording or a channel without a role.</summary>
    public string? RoleOf(int? channel) =>
        channel is { } c && c >= 0 && c < _options.ChannelRoles.Count ? _options.ChannelRoles[c] : null;

    public async IAsyncEnumerable<Utterance> SegmentAsync(IAsyncEnumerable<PcmChunk> pcm, VadPass pass, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = pcm.GetAsyncEnumerator(cancellationToken);
        await using (chunks.ConfigureAwait(false))
        {
            if (!await chunks.MoveNextAsync().ConfigureAwait(false))
            {
                yield break;
            }
            var first = chunks.Current;
            var stream = first.Channel is null
                ? segmenter.SegmentAsync(FromFirst(first, chunks), pass, cancellationToken)
                : SegmentChannelsAsync(FromFirst(first, chunks), pass, cancellationToken);
            await foreach (var utterance in stream.ConfigureAwait(false))
            {
                yield return utterance;
            }
        }
    }

    private static async IAsyncEnumerable<PcmChunk> FromFirst(PcmChunk first, IAsyncEnumerator<PcmChunk> rest)
    {
        yield return first;
        while (await rest.MoveNextAsync().ConfigureAwait(false))
        {
            yield return rest.Current;
        }
    }

    private async IAsyncEnumerable<Utterance> SegmentChannelsAsync(IAsyncEnumerable<PcmChunk> pcm, VadPass pass, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var found = Channel.CreateBounded<Utterance>(new BoundedChannelOptions(LaneChunks * 4) { SingleReader = true });
        var routing = RouteAsync(pcm, pass, found.Writer, linked);
        try
        {
            // Read with the caller's token, not the linked one: the router and every lane complete the channel, with
            // the first failure when one fails, and that failure (not the cancellation it triggers) is the story.
            await foreach (var utterance in found.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return utterance;
            }
        }
        finally
        {
            // Stops the lanes and the decoder when the consumer gives up early (failure or cancellation).
            await linked.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(routing).ConfigureAwait(false);
        }
        await routing.ConfigureAwait(false);
    }

    /// <summary>
    /// Hands each channel's chunks to its lane. The chunks of one stretch (same start) reach the lanes only after every
    /// channel's energy of that stretch is recorded, so a lane judging an utterance always finds the other channels'
    /// energy for the same time. A lane that fails ends the whole recording with its error.
    /// </summary>
    private async Task RouteAsync(IAsyncEnumerable<PcmChunk> pcm, VadPass pass, ChannelWriter<Utterance> found, CancellationTokenSource linked)
    {
        await Task.Yield();
        var cancellationToken = linked.Token;
        var lanes = new List<Lane>();
        var stretch = new List<PcmChunk>();
        var laneTasks = new List<Task>();
        var suppressor = new EchoSuppressor(_options.CrosstalkDecibels);
        try
        {
            await foreach (var chunk in pcm.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (stretch.Count > 0 && chunk.StartSample != stretch[0].StartSample)
                {
                    await PassOnAsync(stretch, cancellationToken).ConfigureAwait(false);
                }
                var channel = chunk.Channel ?? 0;
                while (lanes.Count <= channel)
                {
                    var lane = new Lane(lanes.Count, lanes, _historySamples);
                    lanes.Add(lane);
                    laneTasks.Add(SegmentLaneAsync(lane, pass, found, linked));
                }
                stretch.Add(chunk);
            }
            await PassOnAsync(stretch, cancellationToken).ConfigureAwait(false);
            foreach (var lane in lanes)
            {
                lane.Chunks.Writer.Complete();
            }
            await Task.WhenAll(laneTasks).ConfigureAwait(false);
            found.TryComplete();
        }
        catch (Exception ex)
        {
            foreach (var lane in lanes)
            {
                lane.Chunks.Writer.TryComplete(ex);
            }
            await Task.WhenAll(laneTasks).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            // A lane's own failure completed the channel first; the cancellation it caused here is not the story.
            found.TryComplete(ex);
            throw;
        }

        async Task PassOnAsync(List<PcmChunk> chunks, CancellationToken token)
        {
            var gated = suppressor.Suppress(chunks);
            for (var i = 0; i < chunks.Count; i++)
            {
                var lane = lanes[chunks[i].Channel ?? 0];
                lane.Recorded.Add(chunks[i]);
                lane.Energy.Add(gated[i].Samples.Span);
            }
            foreach (var chunk in gated)
            {
                await lanes[chunk.Channel ?? 0].Chunks.Writer.WriteAsync(chunk, token).ConfigureAwait(false);
            }
            chunks.Clear();
        }
    }

    private async Task SegmentLaneAsync(Lane lane, VadPass pass, ChannelWriter<Utterance> found, CancellationTokenSource linked)
    {
        await Task.Yield();
        try
        {
            await foreach (var utterance in segmenter.SegmentAsync(lane.Chunks.Reader.ReadAllAsync(linked.Token), pass, linked.Token).ConfigureAwait(false))
            {
                if (lane.IsEcho(utterance.StartSeconds, utterance.EndSeconds, _options.CrosstalkDecibels))
                {
                    continue;
                }
                // The VAD heard the gated copy; the utterance keeps the channel's own audio for ASR and the model.
                var start = (long)Math.Round(utterance.StartSeconds * Rate);
                var samples = lane.Recorded.Cut(start, utterance.Samples.Length) ?? utterance.Samples;
                await found.WriteAsync(utterance with { Samples = samples, Channel = lane.Channel }, linked.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !linked.IsCancellationRequested)
        {
            // Without this the router would wait for ever on the failed lane's full queue.
            found.TryComplete(ex);
            await linked.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Lane(int channel, List<Lane> all, long historySamples)
    {
        public int Channel { get; } = channel;

        public Channel<PcmChunk> Chunks { get; } = System.Threading.Channels.Channel.CreateBounded<PcmChunk>(
            new BoundedChannelOptions(LaneChunks) { SingleReader = true, SingleWriter = true });

        public EnergyEnvelope Energy { get; } = new();

        public RecordedAudio Recorded { get; } = new(historySamples);

        /// <summary>True when some other channel is at least <paramref name="decibels"/> louder over the same stretch.</summary>
        public bool IsEcho(double startSeconds, double endSeconds, double decibels)
        {
            var own = Energy.Sum(startSeconds, endSeconds);
            var factor = Math.Pow(10, decibels / 10);
            foreach (var other in all)
            {
                if (other != this && own * factor > 0 && other.Energy.Sum(startSeconds, endSeconds) >= own * factor)
                {
                    return true;
                }
            }
            return false;
        }
    }
}

/// <summary>
/// Silences, per 10 ms frame, a channel on which another channel was at least the given level louder within the last
/// <see cref="ChannelSegmenter.EchoDelayMilliseconds"/> (echo arrives late). Keeps the last frames of every channel
/// across stretches; chunks left untouched are passed on as they are, the others as silenced copies.
/// </summary>
internal sealed class EchoSuppressor(double decibels)
{
    private const int Frame = EnergyEnvelope.FrameSamples;
    private const int DelayFrames = ChannelSegmenter.EchoDelayMilliseconds / 10;

    private readonly double _factor = Math.Pow(10, decibels / 10);
    private readonly Dictionary<int, Queue<double>> _recent = [];

    public List<PcmChunk> Suppress(IReadOnlyList<PcmChunk> stretch)
    {
        var result = new List<PcmChunk>(stretch);
        var length = stretch.Count == 0 ? 0 : stretch.Min(chunk => chunk.Samples.Length);
        var frames = (length + Frame - 1) / Frame;
        var energies = new double[stretch.Count][];
        for (var c = 0; c < stretch.Count; c++)
        {
            var samples = stretch[c].Samples.Span;
            energies[c] = new double[frames];
            for (var i = 0; i < length; i++)
            {
                energies[c][i / Frame] += samples[i] * (double)samples[i];
            }
        }
        if (stretch.Count < 2)
        {
            return result;
        }

        // Loudest energy of each channel over the echo delay up to each frame, the previous stretch's frames included.
        var loudest = new double[stretch.Count][];
        for (var c = 0; c < stretch.Count; c++)
        {
            var key = stretch[c].Channel ?? 0;
            if (!_recent.TryGetValue(key, out var recent))
            {
                _recent[key] = recent = new Queue<double>();
            }
            loudest[c] = new double[frames];
            for (var f = 0; f < frames; f++)
            {
                recent.Enqueue(energies[c][f]);
                while (recent.Count > DelayFrames + 1)
                {
                    recent.Dequeue();
                }
                loudest[c][f] = recent.Max();
            }
        }

        for (var c = 0; c < stretch.Count; c++)
        {
            float[]? gated = null;
            for (var f = 0; f < frames; f++)
            {
                var other = 0d;
                for (var o = 0; o < stretch.Count; o++)
                {
                    if (o != c)
                    {
                        other = Math.Max(other, loudest[o][f]);
                    }
                }
                if (energies[c][f] > 0 && other >= energies[c][f] * _factor)
                {
                    gated ??= stretch[c].Samples.ToArray();
                    Array.Clear(gated, f * Frame, Math.Min(Frame, length - f * Frame));
                }
            }
            if (gated is not null)
            {
                result[c] = stretch[c] with { Samples = gated };
            }
        }
        return result;
    }
}

/// <summary>The recent audio of one channel as recorded, to cut utterances from (bounded: older chunks are dropped).</summary>
internal sealed class RecordedAudio(long keepSamples)
{
    private readonly LinkedList<PcmChunk> _chunks = [];

    public void Add(PcmChunk chunk)
    {
        lock (_chunks)
        {
            _chunks.AddLast(chunk);
            var end = chunk.StartSample + chunk.Samples.Length;
            while (_chunks.First is { } oldest && oldest.Value.StartSample + oldest.Value.Samples.Length < end - keepSamples)
            {
                _chunks.RemoveFirst();
            }
        }
    }

    /// <summary>The samples from <paramref name="start"/> on; null when they are no longer (or not yet) all held.</summary>
    public float[]? Cut(long start, int length)
    {
        lock (_chunks)
        {
            if (_chunks.First is null || start < _chunks.First.Value.StartSample)
            {
                return null;
            }
            var result = new float[length];
            var copied = 0;
            foreach (var chunk in _chunks)
            {
                var chunkEnd = chunk.StartSample + chunk.Samples.Length;
                var from = start + copied;
                if (chunkEnd <= from)
                {
                    continue;
                }
                var offset = (int)(from - chunk.StartSample);
                var count = Math.Min(length - copied, chunk.Samples.Length - offset);
                chunk.Samples.Span.Slice(offset, count).CopyTo(result.AsSpan(copied));
                copied += count;
                if (copied == length)
                {
                    return result;
                }
            }
            return null;
        }
    }
}

/// <summary>
/// Energy of one channel in 10 ms frames, kept for the whole recording (400 bytes per second of audio: 8.6 MB per channel
/// for a 6-hour recording), so an utterance can be compared with the other channels over the same time.
/// </summary>
internal sealed class EnergyEnvelope
{
    public const int FrameSamples = IAudioDecoder.SampleRate / 100;

    private readonly List<float> _frames = [];
    private double _partial;
    private int _partialCount;

    public void Add(ReadOnlySpan<float> samples)
    {
        lock (_frames)
        {
            foreach (var sample in samples)
            {
                _partial += sample * (double)sample;
                if (++_partialCount == FrameSamples)
                {
                    _frames.Add((float)_partial);
                    _partial = 0;
                    _partialCount = 0;
                }
            }
        }
    }

    /// <summary>Total energy of the whole frames between the two times.</summary>
    public double Sum(double startSeconds, double endSeconds)
    {
        lock (_frames)
        {
            var from = Math.Max(0, (int)(startSeconds * 100));
            var to = Math.Min(_frames.Count, (int)Math.Ceiling(endSeconds * 100));
            double sum = 0;
            for (var i = from; i < to; i++)
            {
                sum += _frames[i];
            }
            return sum;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EmotionBatch.Core;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Audio;

/// <summary>
/// Cuts a recording's streams into utterances: a mixed recording goes straight to the VAD; a recording decoded channel
/// by channel gets one VAD state per channel, run side by side, and each utterance is tagged with its channel.
/// Line echo (the other party, faintly, on this channel) must not become speech under the wrong role: every 10 ms in
/// which another channel is <see cref="DecoderOptions.CrosstalkDecibels"/> or more louder is silenced on this channel
/// before the VAD hears it (an echo suppressor, as telephone lines have), and an utterance that is still that much
/// quieter than another channel over its whole length is dropped.
/// Utterances of different channels arrive in the order their VADs find them, not in time order.
/// </summary>
public sealed class ChannelSegmenter(ISpeechSegmenter segmenter, IOptions<DecoderOptions> options)
{
    private const int LaneChunks = 4;

    private readonly DecoderOptions _options = options.Value;

    /// <summary>The configured role of a channel; null for a mixed recording or a channel without a role.</summary>
    public string? RoleOf(int? channel) =>
        channel is { } c && c >= 0 && c < _options.ChannelRoles.Count ? _options.ChannelRoles[c] : null;

    public async IAsyncEnumerable<Utterance> SegmentAsync(IAsyncEnumerable<PcmChunk> pcm, [EnumeratorCancellation] CancellationToken cancellationToken)
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
                ? segmenter.SegmentAsync(FromFirst(first, chunks), cancellationToken)
                : SegmentChannelsAsync(FromFirst(first, chunks), cancellationToken);
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

    private async IAsyncEnumerable<Utterance> SegmentChannelsAsync(IAsyncEnumerable<PcmChunk> pcm, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var found = Channel.CreateBounded<Utterance>(new BoundedChannelOptions(LaneChunks * 4) { SingleReader = true });
        var lanes = new List<Lane>();
        var routing = RouteAsync(pcm, lanes, found.Writer, linked.Token);
        try
        {
            await foreach (var utterance in found.Reader.ReadAllAsync(linked.Token).ConfigureAwait(false))
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
    /// energy for the same time.
    /// </summary>
    private async Task RouteAsync(IAsyncEnumerable<PcmChunk> pcm, List<Lane> lanes, ChannelWriter<Utterance> found, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var stretch = new List<PcmChunk>();
        var laneTasks = new List<Task>();
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
                    var lane = new Lane(lanes.Count, lanes);
                    lanes.Add(lane);
                    laneTasks.Add(SegmentLaneAsync(lane, found, cancellationToken));
                }
                stretch.Add(chunk);
            }
            await PassOnAsync(stretch, cancellationToken).ConfigureAwait(false);
            foreach (var lane in lanes)
            {
                lane.Chunks.Writer.Complete();
            }
            await Task.WhenAll(laneTasks).ConfigureAwait(false);
            found.Complete();
        }
        catch (Exception ex)
        {
            foreach (var lane in lanes)
            {
                lane.Chunks.Writer.TryComplete(ex);
            }
            await Task.WhenAll(laneTasks).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            found.TryComplete(ex);
            throw;
        }

        async Task PassOnAsync(List<PcmChunk> chunks, CancellationToken token)
        {
            var gated = SuppressEcho(chunks, _options.CrosstalkDecibels);
            foreach (var chunk in gated)
            {
                lanes[chunk.Channel ?? 0].Energy.Add(chunk.Samples.Span);
            }
            foreach (var chunk in gated)
            {
                await lanes[chunk.Channel ?? 0].Chunks.Writer.WriteAsync(chunk, token).ConfigureAwait(false);
            }
            chunks.Clear();
        }
    }

    /// <summary>
    /// The chunks of one stretch (one per channel, same length) with every 10 ms frame silenced on a channel where
    /// another channel is at least <paramref name="decibels"/> louder. Chunks left untouched are passed on as they are.
    /// </summary>
    internal static List<PcmChunk> SuppressEcho(IReadOnlyList<PcmChunk> stretch, double decibels)
    {
        var result = new List<PcmChunk>(stretch);
        if (stretch.Count < 2)
        {
            return result;
        }
        const int Frame = EnergyEnvelope.FrameSamples;
        var length = stretch.Min(chunk => chunk.Samples.Length);
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
        var factor = Math.Pow(10, decibels / 10);
        for (var c = 0; c < stretch.Count; c++)
        {
            float[]? gated = null;
            for (var f = 0; f < frames; f++)
            {
                var loudestOther = 0d;
                for (var other = 0; other < stretch.Count; other++)
                {
                    if (other != c)
                    {
                        loudestOther = Math.Max(loudestOther, energies[other][f]);
                    }
                }
                if (loudestOther > 0 && loudestOther >= energies[c][f] * factor)
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

    private async Task SegmentLaneAsync(Lane lane, ChannelWriter<Utterance> found, CancellationToken cancellationToken)
    {
        await Task.Yield();
        await foreach (var utterance in segmenter.SegmentAsync(lane.Chunks.Reader.ReadAllAsync(cancellationToken), cancellationToken).ConfigureAwait(false))
        {
            if (!lane.IsEcho(utterance.StartSeconds, utterance.EndSeconds, _options.CrosstalkDecibels))
            {
                await found.WriteAsync(utterance with { Channel = lane.Channel }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private sealed class Lane(int channel, List<Lane> all)
    {
        public int Channel { get; } = channel;

        public Channel<PcmChunk> Chunks { get; } = System.Threading.Channels.Channel.CreateBounded<PcmChunk>(
            new BoundedChannelOptions(LaneChunks) { SingleReader = true, SingleWriter = true });

        public EnergyEnvelope Energy { get; } = new();

        /// <summary>True when some other channel is at least <paramref name="decibels"/> louder over the same stretch.</summary>
        public bool IsEcho(double startSeconds, double endSeconds, double decibels)
        {
            var own = Energy.Sum(startSeconds, endSeconds);
            var factor = Math.Pow(10, decibels / 10);
            foreach (var other in all)
            {
                if (other != this && other.Energy.Sum(startSeconds, endSeconds) >= own * factor && own * factor > 0)
                {
                    return true;
                }
            }
            return false;
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

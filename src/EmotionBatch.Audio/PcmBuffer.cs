using System.Buffers;

namespace EmotionBatch.Audio;

/// <summary>A sliding run of samples addressed by absolute sample index; rented once and reused for a whole recording.</summary>
internal sealed class PcmBuffer : IDisposable
{
    private float[] _data;
    private int _offset;
    private int _count;

    public PcmBuffer(int initialCapacity) => _data = ArrayPool<float>.Shared.Rent(initialCapacity);

    /// <summary>Absolute index of the first sample held.</summary>
    public long First { get; private set; }

    /// <summary>Absolute index one past the last sample held (= samples appended so far).</summary>
    public long End => First + _count;

    public int Capacity => _data.Length;

    public void Append(ReadOnlySpan<float> samples)
    {
        if (_offset + _count + samples.Length > _data.Length)
        {
            var target = _data;
            if (_count + samples.Length > _data.Length)
            {
                target = ArrayPool<float>.Shared.Rent(Math.Max(_count + samples.Length, _data.Length * 2));
            }
            Array.Copy(_data, _offset, target, 0, _count);
            if (!ReferenceEquals(target, _data))
            {
                ArrayPool<float>.Shared.Return(_data);
                _data = target;
            }
            _offset = 0;
        }
        samples.CopyTo(_data.AsSpan(_offset + _count));
        _count += samples.Length;
    }

    public void DiscardBefore(long sample)
    {
        var drop = (int)Math.Clamp(sample - First, 0, _count);
        _offset += drop;
        _count -= drop;
        First += drop;
    }

    /// <summary>Copies samples from <paramref name="start"/>; positions past <see cref="End"/> are zero-filled.</summary>
    public void CopyTo(long start, Span<float> destination)
    {
        if (start < First)
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, $"Sample {start} was already discarded (buffer starts at {First}).");
        }
        var available = (int)Math.Clamp(End - start, 0, destination.Length);
        if (available > 0)
        {
            _data.AsSpan(_offset + (int)(start - First), available).CopyTo(destination);
        }
        destination[available..].Clear();
    }

    public void Dispose()
    {
        ArrayPool<float>.Shared.Return(_data);
        _data = [];
        _count = 0;
    }
}

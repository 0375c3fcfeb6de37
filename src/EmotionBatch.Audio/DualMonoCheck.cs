namespace EmotionBatch.Audio;

/// <summary>
/// Decides whether the two channels of a recording carry the same signal (a mono recording stored as stereo, or a
/// stereo mix of one speaker) or two different ones (agent and customer). Same means a normalised correlation of at
/// least <see cref="SameSignalCorrelation"/> and levels within <see cref="SameSignalLevelDecibels"/> of each other, over
/// the first <see cref="DecisionSeconds"/> of audio that is not digital silence. Two parties on their own lines
/// correlate near zero; while only one of them speaks, the other line holds that party's echo, which correlates
/// highly but is far quieter, so the level condition keeps such a call split.
/// </summary>
internal sealed class DualMonoCheck
{
    public const double SameSignalCorrelation = 0.9;
    public const double SameSignalLevelDecibels = 6;
    public const double DecisionSeconds = 10;

    /// <summary>Undecided after this long (silence so far), the channels are taken as the same: nothing tells them apart.</summary>
    public const double MaxHoldSeconds = 60;

    // Mean power below this (about -70 dBFS) is silence or dither: too little to judge the channels by.
    private const double SilentPower = 1e-7;

    private double _leftEnergy;
    private double _rightEnergy;
    private double _crossEnergy;
    private long _samples;

    /// <summary>Correlation of the channels so far (0 when either is silent).</summary>
    public double Correlation => _leftEnergy > 0 && _rightEnergy > 0 ? _crossEnergy / Math.Sqrt(_leftEnergy * _rightEnergy) : 0;

    public double Seconds => _samples / (double)Core.IAudioDecoder.SampleRate;

    public void Add(ReadOnlySpan<float> left, ReadOnlySpan<float> right)
    {
        for (var i = 0; i < left.Length; i++)
        {
            _leftEnergy += left[i] * (double)left[i];
            _rightEnergy += right[i] * (double)right[i];
            _crossEnergy += left[i] * (double)right[i];
        }
        _samples += left.Length;
    }

    /// <summary>True: the same signal (mix); false: different signals (split); null: keep listening.</summary>
    public bool? Decide(bool endOfStream)
    {
        var power = _samples == 0 ? 0 : (_leftEnergy + _rightEnergy) / (2 * _samples);
        var audible = power > SilentPower;
        if (!endOfStream && Seconds < MaxHoldSeconds && !(audible && Seconds >= DecisionSeconds))
        {
            return null;
        }
        var levelDifference = _leftEnergy > 0 && _rightEnergy > 0 ? Math.Abs(10 * Math.Log10(_leftEnergy / _rightEnergy)) : double.PositiveInfinity;
        return !audible || (Correlation >= SameSignalCorrelation && levelDifference <= SameSignalLevelDecibels);
    }
}

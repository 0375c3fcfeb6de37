namespace EmotionBatch.Audio;

/// <summary>
/// Decides whether the two channels of a recording carry the same signal (a mono recording stored as stereo, a copy
/// with its phase inverted, or a stereo mix of one speaker) or two different ones (agent and customer). Same means a
/// normalised correlation of at least <see cref="SameSignalCorrelation"/> in magnitude and levels within
/// <see cref="SameSignalLevelDecibels"/> of each other, over the first <see cref="DecisionSeconds"/> of audio with sound
/// (10 ms frames above about -70 dBFS; silence does not count). Two parties on their own lines correlate near zero;
/// while only one of them speaks, the other line holds that party's echo, which correlates highly but is far quieter,
/// so the level condition keeps such a call split.
/// </summary>
internal sealed class DualMonoCheck
{
    public const double SameSignalCorrelation = 0.9;
    public const double SameSignalLevelDecibels = 6;
    public const double DecisionSeconds = 10;

    /// <summary>Undecided after this long (too little sound so far), the channels are taken as the same: nothing tells them apart.</summary>
    public const double MaxHoldSeconds = 60;

    private const int Frame = EnergyEnvelope.FrameSamples;
    // Mean power below this (about -70 dBFS) is silence or dither: too little to judge the channels by.
    private const double SilentPower = 1e-7;

    private double _leftEnergy;
    private double _rightEnergy;
    private double _crossEnergy;
    private long _audibleSamples;
    private long _samples;

    /// <summary>Correlation of the channels over the frames with sound so far (0 when either is silent).</summary>
    public double Correlation => _leftEnergy > 0 && _rightEnergy > 0 ? _crossEnergy / Math.Sqrt(_leftEnergy * _rightEnergy) : 0;

    public void Add(ReadOnlySpan<float> left, ReadOnlySpan<float> right)
    {
        for (var start = 0; start < left.Length; start += Frame)
        {
            var count = Math.Min(Frame, left.Length - start);
            double ll = 0, rr = 0, lr = 0;
            for (var i = start; i < start + count; i++)
            {
                ll += left[i] * (double)left[i];
                rr += right[i] * (double)right[i];
                lr += left[i] * (double)right[i];
            }
            _samples += count;
            if ((ll + rr) / (2 * count) > SilentPower)
            {
                _leftEnergy += ll;
                _rightEnergy += rr;
                _crossEnergy += lr;
                _audibleSamples += count;
            }
        }
    }

    /// <summary>True: the same signal (mix); false: different signals (split); null: keep listening.</summary>
    public bool? Decide(bool endOfStream)
    {
        var audibleSeconds = _audibleSamples / (double)Core.IAudioDecoder.SampleRate;
        var seconds = _samples / (double)Core.IAudioDecoder.SampleRate;
        if (!endOfStream && seconds < MaxHoldSeconds && audibleSeconds < DecisionSeconds)
        {
            return null;
        }
        if (_audibleSamples == 0)
        {
            return true;
        }
        var levelDifference = _leftEnergy > 0 && _rightEnergy > 0 ? Math.Abs(10 * Math.Log10(_leftEnergy / _rightEnergy)) : double.PositiveInfinity;
        return Math.Abs(Correlation) >= SameSignalCorrelation && levelDifference <= SameSignalLevelDecibels;
    }
}

namespace EmotionBatch.Core;

/// <summary>
/// The names of the pipeline's stages: the <c>stage</c> column of the errors dataset, the stage tag of the
/// per-stage duration metric, and the stage a <see cref="RecordingFailedException"/> names. Written as text into
/// the output, so they never change.
/// </summary>
public static class PipelineStage
{
    public const string Fetch = "fetch";
    public const string Probe = "probe";
    public const string Decode = "decode";
    /// <summary>Voice activity detection; also the stage of a recording in which no speech was found.</summary>
    public const string Segment = "segment";
    /// <summary>Decoding and segmentation run as one streamed stage; its duration is measured as one.</summary>
    public const string DecodeSegment = "decode_segment";
    public const string Transcribe = "transcribe";
    public const string Infer = "infer";
    public const string Commit = "commit";
    /// <summary>A fault no stage anticipated (a storage hiccup, a bug); retried a bounded number of times.</summary>
    public const string Unexpected = "unexpected";

    /// <summary>Every stage a failure row can name, in pipeline order.</summary>
    public static IReadOnlyList<string> FailureStages { get; } = [Fetch, Probe, Decode, Segment, Transcribe, Infer, Commit, Unexpected];
}

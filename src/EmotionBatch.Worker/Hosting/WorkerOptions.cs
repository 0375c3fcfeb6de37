using System.ComponentModel.DataAnnotations;

namespace EmotionBatch.Worker.Hosting;

/// <summary>Limits and pacing of the worker (section "EmotionBatch:Worker").</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "EmotionBatch:Worker";

    /// <summary>Where blobs are downloaded before decoding. Swept of stale files at start-up.</summary>
    [Required]
    public string WorkFolder { get; set; } = ".work";

    /// <summary>Recordings larger than this fail with a clear reason before anything is downloaded.</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileSizeBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// Recordings processed at once. Two on two cores lets one recording decode while another runs VAD and inference
    /// (201x against 144x real time one at a time; three or four gained nothing: docs/performance.md). Each one holds
    /// its own VAD block and utterance buffers.
    /// </summary>
    [Range(1, 64)]
    public int MaxConcurrentRecordings { get; set; } = 2;

    /// <summary>Stop after one pass over the source (for scheduled jobs) instead of polling for ever.</summary>
    public bool RunOnce { get; set; }
}

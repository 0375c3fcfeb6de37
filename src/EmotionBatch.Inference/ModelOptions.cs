using System.ComponentModel.DataAnnotations;

namespace EmotionBatch.Inference;

public enum ExecutionProviderKind
{
    /// <summary>CUDA when the loaded ONNX Runtime build can use it, else CPU.</summary>
    Auto,
    Cpu,
    /// <summary>CUDA or fail at start. Needs the Microsoft.ML.OnnxRuntime.Gpu.Linux native build (same managed API).</summary>
    Cuda,
}

/// <summary>
/// Graph optimisation level; mirrors ONNX Runtime's so configuration does not depend on its enum names.
/// </summary>
public enum GraphOptimization
{
    Disabled,
    Basic,
    Extended,
    All,
}

/// <summary>Configuration section <c>EmotionBatch:Model</c>.</summary>
public sealed class ModelOptions
{
    public const string SectionName = "EmotionBatch:Model";

    /// <summary>Bundle directory (see docs/model-bundle.md); relative paths resolve against the current directory.</summary>
    [Required]
    public string BundlePath { get; set; } = "models/default";

    /// <summary>
    /// The project depends on the CPU package Microsoft.ML.OnnxRuntime; GPU images replace it with
    /// Microsoft.ML.OnnxRuntime.Gpu.Linux, which has the same managed API, so Auto picks CUDA there.
    /// </summary>
    public ExecutionProviderKind ExecutionProvider { get; set; } = ExecutionProviderKind.Auto;

    [Range(0, 64)]
    public int DeviceId { get; set; }

    [Range(1, 4096)]
    public int BatchSize { get; set; } = 16;

    /// <summary>Threads per operator; 0 leaves ONNX Runtime's default (one per physical core).</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    public GraphOptimization GraphOptimizationLevel { get; set; } = GraphOptimization.All;

    /// <summary>
    /// Whether idle intra-op threads spin waiting for work. Off by default: decoding, VAD and inference share the
    /// cores, and spinning threads take CPU from the other stages for a small gain in inference alone.
    /// </summary>
    public bool IntraOpSpinning { get; set; }

    /// <summary>
    /// When set, every session records ONNX Runtime's per-node profile and writes it as JSON (when the session ends)
    /// to a file named this path + "_" + the graph's file name + "_" + a number per session + ONNX Runtime's time
    /// stamp. The folder must exist. For diagnosing a slow graph on CPU (under CUDA the kernel times are launch
    /// times); it costs time, so leave it unset.
    /// </summary>
    public string? ProfilePrefix { get; set; }
}

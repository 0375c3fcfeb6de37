using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace EmotionBatch.Inference;

/// <summary>Builds ONNX Runtime session options from <see cref="ModelOptions"/> and picks the execution provider once.</summary>
public sealed partial class SessionFactory
{
    private const string CudaProviderName = "CUDAExecutionProvider";

    private readonly ModelOptions _options;
    private readonly ILogger _logger;
    private readonly Lazy<ExecutionProviderKind> _chosen;
    private int _profiledSessions;

    public SessionFactory(ModelOptions options, ILogger? logger = null)
    {
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _chosen = new Lazy<ExecutionProviderKind>(Choose);
    }

    /// <summary>Cpu or Cuda: what every session from this factory runs on.</summary>
    public ExecutionProviderKind ExecutionProvider => _chosen.Value;

    public InferenceSession CreateSession(string modelPath)
    {
        using var sessionOptions = CreateOptions(Path.GetFileNameWithoutExtension(modelPath));
        // From the path, so ONNX Runtime maps the file and external data itself: no managed copy of large graphs.
        return new InferenceSession(modelPath, sessionOptions);
    }

    public InferenceSession CreateSession(byte[] model)
    {
        using var sessionOptions = CreateOptions("in-memory");
        return new InferenceSession(model, sessionOptions);
    }

    private SessionOptions CreateOptions(string graphName)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = _options.GraphOptimizationLevel switch
            {
                GraphOptimization.Disabled => GraphOptimizationLevel.ORT_DISABLE_ALL,
                GraphOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
        };
        // The graphs are chains of operators: parallelism inside each operator, none between them.
        sessionOptions.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
        sessionOptions.InterOpNumThreads = 1;
        if (_options.IntraOpThreads > 0)
        {
            sessionOptions.IntraOpNumThreads = _options.IntraOpThreads;
        }
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", _options.IntraOpSpinning ? "1" : "0");
        // Arena and memory patterns stay on (defaults): batches repeat similar shapes, so buffers are reused.
        sessionOptions.EnableCpuMemArena = true;
        if (!string.IsNullOrEmpty(_options.ProfilePrefix))
        {
            // ONNX Runtime names the file after the prefix and the second it starts, and a bundle's sessions start in
            // the same second: each gets its graph's name and a number of its own. The prefix is set before
            // profiling is enabled, which hands ONNX Runtime the prefix set at that moment.
            var number = Interlocked.Increment(ref _profiledSessions);
            sessionOptions.ProfileOutputPathPrefix = $"{_options.ProfilePrefix}_{graphName}_{number}";
            sessionOptions.EnableProfiling = true;
        }
        if (ExecutionProvider == ExecutionProviderKind.Cuda)
        {
            sessionOptions.AppendExecutionProvider_CUDA(_options.DeviceId);
        }
        return sessionOptions;
    }

    private ExecutionProviderKind Choose()
    {
        if (_options.ExecutionProvider == ExecutionProviderKind.Cpu)
        {
            LogConfiguredCpu(_logger);
            return ExecutionProviderKind.Cpu;
        }

        var problem = ProbeCuda(_options.DeviceId);
        if (problem is null)
        {
            LogCuda(_logger, _options.DeviceId);
            return ExecutionProviderKind.Cuda;
        }
        if (_options.ExecutionProvider == ExecutionProviderKind.Cuda)
        {
            throw new InvalidOperationException(
                $"{ModelOptions.SectionName}:ExecutionProvider is Cuda but CUDA is unavailable: {problem} " +
                "GPU images need the Microsoft.ML.OnnxRuntime.Gpu.Linux package, CUDA 12 and cuDNN 9.");
        }
        LogCudaUnavailable(_logger, problem);
        return ExecutionProviderKind.Cpu;
    }

    /// <summary>Null when CUDA can be appended, else why not. CPU-only builds throw here, which is expected.</summary>
    private static string? ProbeCuda(int deviceId)
    {
        try
        {
            if (!OrtEnv.Instance().GetAvailableProviders().Contains(CudaProviderName))
            {
                return "this ONNX Runtime build has no CUDA execution provider.";
            }
            using var probe = new SessionOptions();
            probe.AppendExecutionProvider_CUDA(deviceId);
            return null;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return e.Message;
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "ONNX Runtime execution provider: CPU (configured)")]
    private static partial void LogConfiguredCpu(ILogger logger);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "ONNX Runtime execution provider: CUDA device {DeviceId}")]
    private static partial void LogCuda(ILogger logger, int deviceId);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "ONNX Runtime execution provider: CPU (CUDA unavailable: {Reason})")]
    private static partial void LogCudaUnavailable(ILogger logger, string reason);
}

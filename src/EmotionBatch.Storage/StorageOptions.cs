using EmotionBatch.Core;
using System.ComponentModel.DataAnnotations;

namespace EmotionBatch.Storage;

/// <summary>Where a source reads from or an output writes to.</summary>
public enum StorageKind
{
    Local,
    Blob,
}

/// <summary>
/// How to reach a blob container. Exactly one of <see cref="ConnectionString"/> and <see cref="ServiceUri"/> is set;
/// a <see cref="ServiceUri"/> without a SAS query authenticates with DefaultAzureCredential.
/// Retries are the Azure SDK pipeline's own (exponential), tuned by the Retry* settings.
/// </summary>
public abstract class BlobEndpointOptions
{
    /// <summary>Secret: never logged. <see cref="ToString"/> omits it.</summary>
    public string? ConnectionString { get; set; }

    public Uri? ServiceUri { get; set; }

    public string? ContainerName { get; set; }

    [Range(0, 20)]
    public int MaxRetries { get; set; } = 5;

    /// <summary>First back-off of the SDK's exponential retry.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(0.8);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Per-attempt timeout of one HTTP request.</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    // Options objects end up in debugger views and exception messages; keep the secret out of them.
    public override string ToString() =>
        $"{GetType().Name} {{ Container = {ContainerName}, ServiceUri = {BlobNames.WithoutQuery(ServiceUri)}, ConnectionString = {(ConnectionString is null ? "unset" : "***")} }}";
}

/// <summary>Configuration section <c>EmotionBatch:Source</c>: where recordings enter.</summary>
public sealed class SourceOptions : BlobEndpointOptions
{
    public const string SectionName = "EmotionBatch:Source";

    public static readonly IReadOnlyList<string> DefaultExtensions =
        [".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mka", ".amr"];

    public StorageKind Kind { get; set; } = StorageKind.Local;

    public string LocalPath { get; set; } = "samples";

    /// <summary>Only recordings whose id (relative path or blob name) starts with this are listed.</summary>
    public string? Prefix { get; set; }

    /// <summary>
    /// Extensions to pick up, case-insensitive. Left empty, <see cref="DefaultExtensions"/> apply
    /// (a list, because the configuration binder appends to a pre-filled one instead of replacing it).
    /// </summary>
    public IList<string> Extensions { get; set; } = [];

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<string> EffectiveExtensions => Extensions.Count > 0 ? [.. Extensions] : DefaultExtensions;
}

/// <summary>Configuration section <c>EmotionBatch:Output</c>: where rows and the ledger go.</summary>
public sealed class OutputOptions : BlobEndpointOptions
{
    public const string SectionName = "EmotionBatch:Output";

    public StorageKind Kind { get; set; } = StorageKind.Local;

    public string LocalPath { get; set; } = "out";

    /// <summary>Folder inside the container that holds the datasets; empty puts them at the container root.</summary>
    public string? Prefix { get; set; }

    /// <summary>Failures of one recording version before it is left alone until its content changes.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Wait after the first failure; doubles with each further attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMinutes(1);

    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromHours(6);

    /// <summary>The retry rule these settings make, shared by the store and the batch runner.</summary>
    public RetryPolicy RetryPolicy => new(MaxAttempts, RetryBackoff, MaxRetryBackoff);

    /// <summary>
    /// How long a worker's claim on a recording outlives the worker (blob output; renewed every third of it while
    /// the worker lives). Blob leases allow 15 to 60 s. Local output uses OS file locks, which die with the process.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:15", "00:01:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);
}

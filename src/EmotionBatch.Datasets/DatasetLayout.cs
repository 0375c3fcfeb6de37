using System.Globalization;
using System.Text.RegularExpressions;
using EmotionBatch.Core;

namespace EmotionBatch.Datasets;

/// <summary>
/// Where every file of the output lives (docs/schema.md): one folder per dataset, hive partitions
/// <c>date=YYYY-MM-DD</c>, one file per recording version named by its <see cref="RecordingKey"/>. Names use forward
/// slashes and are relative to the output root, as object-store names are.
/// </summary>
public static partial class DatasetLayout
{
    public const string Utterances = "utterances";
    public const string Summaries = "summaries";
    public const string ChannelSummaries = "channel_summaries";
    public const string Errors = "errors";
    /// <summary>The worker's ledger (done, failed, announced outputs, claims); not a dataset.</summary>
    public const string State = "_state";
    /// <summary>One claim (blob lease or file lock) per recording id, shared by every worker writing this output.</summary>
    public const string Claims = State + "/claims";

    /// <summary>The partition folder of a day: <c>date=YYYY-MM-DD</c> (UTC).</summary>
    public static string Partition(DateTimeOffset day) =>
        "date=" + day.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The partition of a recording version is its own last-modified date, so a version always maps to the same name.</summary>
    public static string Partition(RecordingRef recording)
    {
        ArgumentNullException.ThrowIfNull(recording);
        return Partition(recording.LastModified);
    }

    /// <summary><c>utterances/date=…/&lt;key&gt;.parquet</c>: the one file holding a recording version's rows.</summary>
    public static string UtteranceFile(string partition, RecordingKey key) => $"{Utterances}/{partition}/{key}.parquet";

    public static string UtteranceFile(RecordingRef recording)
    {
        ArgumentNullException.ThrowIfNull(recording);
        return UtteranceFile(Partition(recording), recording.Key);
    }

    /// <summary>A recording version's summary sits beside its utterances file: same partition, same name, in <paramref name="dataset"/>.</summary>
    public static string BesideUtterances(string utteranceFile, string dataset)
    {
        ArgumentException.ThrowIfNullOrEmpty(utteranceFile);
        if (!utteranceFile.StartsWith(Utterances + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{utteranceFile}' is not a name in the {Utterances} dataset.", nameof(utteranceFile));
        }
        return dataset + utteranceFile[Utterances.Length..];
    }

    /// <summary><c>errors/date=…/&lt;key&gt;-attempt&lt;n&gt;.parquet</c>: one file per failed attempt.</summary>
    public static string ErrorFile(RecordingRef recording, int attempt)
    {
        ArgumentNullException.ThrowIfNull(recording);
        return $"{Errors}/{Partition(recording)}/{recording.Key}-attempt{attempt.ToString(CultureInfo.InvariantCulture)}.parquet";
    }

    /// <summary>Whether <paramref name="fileName"/> (no folder) is the worker's name for one recording version: <c>&lt;id-hash&gt;-&lt;version-hash&gt;.parquet</c>.</summary>
    public static bool IsVersionFileName(string fileName) => VersionFileName().IsMatch(fileName);

    /// <summary>The id hash of a version file name, or null for any other name.</summary>
    public static string? IdHashOf(string fileName) =>
        VersionFileName().Match(fileName) is { Success: true } match ? match.Groups["id"].Value : null;

    /// <summary>Names starting with '.' or '_' are in-flight writes or markers; readers leave them out (as Spark and DuckDB do).</summary>
    public static bool IsHidden(string fileName) => fileName.StartsWith('.') || fileName.StartsWith('_');

    /// <summary>The visible Parquet files of one dataset (e.g. <see cref="Errors"/>) under an output folder, in name order; none without that folder.</summary>
    public static IEnumerable<string> ParquetFiles(string output, string dataset)
    {
        var folder = Path.Combine(Path.GetFullPath(output), dataset);
        return Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories)
                .Where(file => !IsHidden(Path.GetFileName(file))).Order(StringComparer.Ordinal)
            : [];
    }

    [GeneratedRegex("^(?<id>[0-9a-f]{32})-(?<version>[0-9a-f]{32})\\.parquet$")]
    private static partial Regex VersionFileName();
}

using System.Text.RegularExpressions;
using EmotionBatch.Core;
using Parquet;
using Parquet.Schema;

namespace EmotionBatch.Reports.Dataset;

/// <summary>
/// Reads the utterances dataset (<c>&lt;output&gt;/utterances/date=YYYY-MM-DD/*.parquet</c>) back into <see cref="UtteranceRow"/>s.
/// </summary>
public sealed partial class UtteranceDatasetReader
{
    public const string FolderName = "utterances";

    /// <param name="path">The output folder (holding <c>utterances/</c>), the utterances folder itself, or one Parquet file.</param>
    public UtteranceDatasetReader(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        var nested = Path.Combine(full, FolderName);
        Location = Directory.Exists(nested) ? nested : full;
    }

    /// <summary>The folder (or file) that is read.</summary>
    public string Location { get; }

    /// <summary>Every Parquet file of the dataset, in a stable order. Names starting with '.' or '_' are in-flight or marker files and are left out.</summary>
    public IReadOnlyList<string> ListFiles()
    {
        if (File.Exists(Location))
        {
            return [Location];
        }
        if (!Directory.Exists(Location))
        {
            throw new DirectoryNotFoundException($"No utterances dataset at {Location}: expected a folder of Parquet files (run `emotionbatch process` first).");
        }
        return Directory.EnumerateFiles(Location, "*.parquet", SearchOption.AllDirectories)
            .Where(file => Path.GetFileName(file) is var name && !name.StartsWith('.') && !name.StartsWith('_'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Reads all rows, or only those of one recording, in file order.</summary>
    public async Task<IReadOnlyList<UtteranceRow>> ReadAsync(string? recordingId = null, CancellationToken cancellationToken = default) =>
        (await ReadFilesAsync(recordingId, cancellationToken).ConfigureAwait(false)).SelectMany(file => file.Rows).ToList();

    /// <summary>The worker's name for a file holding one recording version: <c>&lt;id-hash&gt;-&lt;version-hash&gt;.parquet</c>.</summary>
    public static bool IsVersionFileName(string fileName) => KeyedFileName().IsMatch(fileName);

    /// <summary>Reads all rows, or only those of one recording, file by file (files without such rows are left out).</summary>
    public async Task<IReadOnlyList<(string File, IReadOnlyList<UtteranceRow> Rows)>> ReadFilesAsync(
        string? recordingId = null, CancellationToken cancellationToken = default)
    {
        // Files named <id-hash>-<version-hash>.parquet hold one recording each, so a filtered read can skip the others unopened.
        var idHash = recordingId is null ? null : Hashing.ShortHex(recordingId);
        var result = new List<(string, IReadOnlyList<UtteranceRow>)>();
        foreach (var file in ListFiles())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (idHash is not null && KeyedFileName().Match(Path.GetFileName(file)) is { Success: true } match
                && !string.Equals(match.Groups["id"].Value, idHash, StringComparison.Ordinal))
            {
                continue;
            }
            await using var stream = File.OpenRead(file);
            try
            {
                var rows = await ReadStreamAsync(stream, recordingId, cancellationToken).ConfigureAwait(false);
                if (rows.Count > 0)
                {
                    result.Add((file, rows));
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
            {
                throw new InvalidDataException($"Cannot read {file}: {e.Message}", e);
            }
        }
        return result;
    }

    /// <summary>Reads one Parquet file of the utterances schema.</summary>
    public static async Task<IReadOnlyList<UtteranceRow>> ReadStreamAsync(Stream stream, string? recordingId = null, CancellationToken cancellationToken = default)
    {
        await using var reader = await ParquetReader.CreateAsync(stream, null, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
        var fields = reader.Schema.DataFields.ToDictionary(field => field.Name, StringComparer.Ordinal);
        DataField Required(string name) => fields.TryGetValue(name, out var field)
            ? field
            : throw new InvalidDataException($"Column {name} is missing; this is not an utterances file.");
        DataField? Optional(string name) => fields.GetValueOrDefault(name);

        var rows = new List<UtteranceRow>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.OpenRowGroupReader(g);
            var ids = await ParquetColumns.ReadStringsAsync(group, Required(UtteranceColumns.RecordingId), cancellationToken).ConfigureAwait(false);
            if (recordingId is not null && !ids.Contains(recordingId, StringComparer.Ordinal))
            {
                continue;
            }

            var uris = await ParquetColumns.ReadStringsAsync(group, Required(UtteranceColumns.RecordingUri), cancellationToken).ConfigureAwait(false);
            var etags = await ParquetColumns.ReadStringsAsync(group, Required(UtteranceColumns.ETag), cancellationToken).ConfigureAwait(false);
            var indexes = await ParquetColumns.ReadIntegersAsync(group, Required(UtteranceColumns.UtteranceIndex), cancellationToken).ConfigureAwait(false);
            var starts = await ParquetColumns.ReadDoublesAsync(group, Required(UtteranceColumns.StartSeconds), cancellationToken).ConfigureAwait(false);
            var ends = await ParquetColumns.ReadDoublesAsync(group, Required(UtteranceColumns.EndSeconds), cancellationToken).ConfigureAwait(false);
            var transcripts = Optional(UtteranceColumns.Transcript) is { } transcriptField
                ? await ParquetColumns.ReadStringsAsync(group, transcriptField, cancellationToken).ConfigureAwait(false)
                : new string?[ids.Length];
            var languages = Optional(UtteranceColumns.Language) is { } languageField
                ? await ParquetColumns.ReadStringsAsync(group, languageField, cancellationToken).ConfigureAwait(false)
                : new string?[ids.Length];
            var emotions = await ParquetColumns.ReadStringsAsync(group, Required(UtteranceColumns.Emotion), cancellationToken).ConfigureAwait(false);
            var angry = await ParquetColumns.ReadDoublesAsync(group, Required(UtteranceColumns.ProbabilityAngry), cancellationToken).ConfigureAwait(false);
            var happy = await ParquetColumns.ReadDoublesAsync(group, Required(UtteranceColumns.ProbabilityHappy), cancellationToken).ConfigureAwait(false);
            var sad = await ParquetColumns.ReadDoublesAsync(group, Required(UtteranceColumns.ProbabilitySad), cancellationToken).ConfigureAwait(false);
            var neutral = await ParquetColumns.ReadDoublesAsync(group, Required(UtteranceColumns.ProbabilityNeutral), cancellationToken).ConfigureAwait(false);
            var valence = await ParquetColumns.ReadDoublesAsync(group, Required(UtteranceColumns.Valence), cancellationToken).ConfigureAwait(false);
            var arousal = await ParquetColumns.ReadDoublesAsync(group, Required(UtteranceColumns.Arousal), cancellationToken).ConfigureAwait(false);
            var textUsed = Optional(UtteranceColumns.TextUsed) is { } textUsedField
                ? await ParquetColumns.ReadBooleansAsync(group, textUsedField, cancellationToken).ConfigureAwait(false)
                : new bool?[ids.Length];
            var modelNames = await ParquetColumns.ReadStringsAsync(group, Required(UtteranceColumns.ModelName), cancellationToken).ConfigureAwait(false);
            var modelVersions = await ParquetColumns.ReadStringsAsync(group, Required(UtteranceColumns.ModelVersion), cancellationToken).ConfigureAwait(false);
            var processedAt = await ParquetColumns.ReadTimestampsAsync(group, Required(UtteranceColumns.ProcessedAt), cancellationToken).ConfigureAwait(false);
            // Files written before channel splitting lack these columns: one mixed stream, no roles, no overlap.
            var channels = Optional(UtteranceColumns.Channel) is { } channelField
                ? await ParquetColumns.ReadIntegersAsync(group, channelField, cancellationToken).ConfigureAwait(false)
                : new long?[ids.Length];
            var roles = Optional(UtteranceColumns.SpeakerRole) is { } roleField
                ? await ParquetColumns.ReadStringsAsync(group, roleField, cancellationToken).ConfigureAwait(false)
                : new string?[ids.Length];
            var overlaps = Optional(UtteranceColumns.Overlap) is { } overlapField
                ? await ParquetColumns.ReadBooleansAsync(group, overlapField, cancellationToken).ConfigureAwait(false)
                : new bool?[ids.Length];

            for (var i = 0; i < ids.Length; i++)
            {
                if (recordingId is not null && !string.Equals(ids[i], recordingId, StringComparison.Ordinal))
                {
                    continue;
                }
                rows.Add(new UtteranceRow(
                    RecordingId: ids[i] ?? throw new InvalidDataException($"Row {i}: {UtteranceColumns.RecordingId} is null."),
                    RecordingUri: uris[i] ?? "",
                    ETag: etags[i] ?? "",
                    UtteranceIndex: (int)(indexes[i] ?? i),
                    StartSeconds: starts[i] ?? double.NaN,
                    EndSeconds: ends[i] ?? double.NaN,
                    Transcript: transcripts[i],
                    Language: languages[i],
                    Emotion: emotions[i] ?? EmotionLabels.Neutral,
                    ProbabilityAngry: (float)(angry[i] ?? double.NaN),
                    ProbabilityHappy: (float)(happy[i] ?? double.NaN),
                    ProbabilitySad: (float)(sad[i] ?? double.NaN),
                    ProbabilityNeutral: (float)(neutral[i] ?? double.NaN),
                    Valence: (float)(valence[i] ?? double.NaN),
                    Arousal: (float)(arousal[i] ?? double.NaN),
                    TextUsed: textUsed[i] ?? !string.IsNullOrWhiteSpace(transcripts[i]),
                    ModelName: modelNames[i] ?? "",
                    ModelVersion: modelVersions[i] ?? "",
                    ProcessedAtUtc: processedAt[i] ?? DateTime.MinValue)
                {
                    Channel = (int)(channels[i] ?? 0),
                    SpeakerRole = roles[i],
                    Overlap = overlaps[i] ?? false,
                });
            }
        }
        return rows;
    }

    [GeneratedRegex("^(?<id>[0-9a-f]{32})-(?<version>[0-9a-f]{32})\\.parquet$")]
    private static partial Regex KeyedFileName();
}

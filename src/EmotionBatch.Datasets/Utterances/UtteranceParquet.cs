using EmotionBatch.Core;
using Parquet;
using Parquet.Schema;
using static EmotionBatch.Datasets.ParquetFields;

namespace EmotionBatch.Datasets;

/// <summary>
/// The utterances dataset's Parquet schema (docs/schema.md), its writer and its reader: one definition for the worker
/// that writes it, the reports and tests that read it. The reader also takes files written before later columns
/// existed, and numbers of another physical type (double for float), as analysts' own exports may have them.
/// </summary>
public static class UtteranceParquet
{
    private static readonly DataField<int> UtteranceIndex = new(UtteranceColumns.UtteranceIndex, nullable: false);
    private static readonly DataField<double> StartSeconds = new(UtteranceColumns.StartSeconds, nullable: false);
    private static readonly DataField<double> EndSeconds = new(UtteranceColumns.EndSeconds, nullable: false);
    private static readonly DataField<string> Transcript = new(UtteranceColumns.Transcript, nullable: true);
    private static readonly DataField<string> Language = new(UtteranceColumns.Language, nullable: true);
    private static readonly DataField<string> Emotion = new(UtteranceColumns.Emotion, nullable: false);
    private static readonly DataField<float> ProbabilityAngry = new(UtteranceColumns.ProbabilityAngry, nullable: false);
    private static readonly DataField<float> ProbabilityHappy = new(UtteranceColumns.ProbabilityHappy, nullable: false);
    private static readonly DataField<float> ProbabilitySad = new(UtteranceColumns.ProbabilitySad, nullable: false);
    private static readonly DataField<float> ProbabilityNeutral = new(UtteranceColumns.ProbabilityNeutral, nullable: false);
    private static readonly DataField<float> Valence = new(UtteranceColumns.Valence, nullable: false);
    private static readonly DataField<float> Arousal = new(UtteranceColumns.Arousal, nullable: false);
    private static readonly DataField<bool> TextUsed = new(UtteranceColumns.TextUsed, nullable: false);
    private static readonly DataField<bool> Overlap = new(UtteranceColumns.Overlap, nullable: false);
    private static readonly DataField<float?> VadThreshold = new(UtteranceColumns.VadThreshold, nullable: true);

    /// <summary>
    /// The columns in file order. Columns added later (channel, speaker_role, overlap; then vad_threshold) come after every earlier one,
    /// so readers of older files keep their column positions.
    /// </summary>
    public static ParquetSchema Schema { get; } = new(
        RecordingId, RecordingUri, ETag, UtteranceIndex, StartSeconds, EndSeconds, Transcript, Language, Emotion,
        ProbabilityAngry, ProbabilityHappy, ProbabilitySad, ProbabilityNeutral, Valence, Arousal, TextUsed,
        ModelName, ModelVersion, ProcessedAt, Channel, SpeakerRole, Overlap, VadThreshold);

    /// <summary>One Parquet file holding <paramref name="rows"/> in one row group.</summary>
    public static Task WriteAsync(IReadOnlyList<UtteranceRow> rows, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return WriteFileAsync(Schema, destination, async group =>
        {
            await WriteStringsAsync(group, RecordingId, rows, r => r.RecordingId, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, RecordingUri, rows, r => r.RecordingUri, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, ETag, rows, r => r.ETag, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, UtteranceIndex, rows, r => r.UtteranceIndex, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, StartSeconds, rows, r => r.StartSeconds, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, EndSeconds, rows, r => r.EndSeconds, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, Transcript, rows, r => r.Transcript, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, Language, rows, r => r.Language, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, Emotion, rows, r => r.Emotion, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, ProbabilityAngry, rows, r => r.ProbabilityAngry, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, ProbabilityHappy, rows, r => r.ProbabilityHappy, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, ProbabilitySad, rows, r => r.ProbabilitySad, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, ProbabilityNeutral, rows, r => r.ProbabilityNeutral, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, Valence, rows, r => r.Valence, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, Arousal, rows, r => r.Arousal, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, TextUsed, rows, r => r.TextUsed, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, ModelName, rows, r => r.ModelName, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, ModelVersion, rows, r => r.ModelVersion, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, ProcessedAt, rows, r => AsUtc(r.ProcessedAtUtc), cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, Channel, rows, r => r.Channel, cancellationToken).ConfigureAwait(false);
            await WriteStringsAsync(group, SpeakerRole, rows, r => r.SpeakerRole, cancellationToken).ConfigureAwait(false);
            await WriteValuesAsync(group, Overlap, rows, r => r.Overlap, cancellationToken).ConfigureAwait(false);
            await WriteNullableAsync(group, VadThreshold, rows, r => r.VadThreshold, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Reads one utterances file: all rows, or only those of <paramref name="recordingId"/>.</summary>
    public static async Task<IReadOnlyList<UtteranceRow>> ReadAsync(Stream source, string? recordingId = null, CancellationToken cancellationToken = default)
    {
        await using var reader = await ParquetReader.CreateAsync(source, null, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
        var columns = new ParquetColumns(reader.Schema, "an utterances file");

        var rows = new List<UtteranceRow>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.OpenRowGroupReader(g);
            var ids = await columns.StringsAsync(group, UtteranceColumns.RecordingId, cancellationToken).ConfigureAwait(false);
            if (recordingId is not null && !ids.Contains(recordingId, StringComparer.Ordinal))
            {
                continue;
            }

            var uris = await columns.StringsAsync(group, UtteranceColumns.RecordingUri, cancellationToken).ConfigureAwait(false);
            var etags = await columns.StringsAsync(group, UtteranceColumns.ETag, cancellationToken).ConfigureAwait(false);
            var indexes = await columns.IntegersAsync(group, UtteranceColumns.UtteranceIndex, cancellationToken).ConfigureAwait(false);
            var starts = await columns.DoublesAsync(group, UtteranceColumns.StartSeconds, cancellationToken).ConfigureAwait(false);
            var ends = await columns.DoublesAsync(group, UtteranceColumns.EndSeconds, cancellationToken).ConfigureAwait(false);
            var transcripts = await columns.StringsAsync(group, UtteranceColumns.Transcript, cancellationToken, optional: true).ConfigureAwait(false);
            var languages = await columns.StringsAsync(group, UtteranceColumns.Language, cancellationToken, optional: true).ConfigureAwait(false);
            var emotions = await columns.StringsAsync(group, UtteranceColumns.Emotion, cancellationToken).ConfigureAwait(false);
            var angry = await columns.DoublesAsync(group, UtteranceColumns.ProbabilityAngry, cancellationToken).ConfigureAwait(false);
            var happy = await columns.DoublesAsync(group, UtteranceColumns.ProbabilityHappy, cancellationToken).ConfigureAwait(false);
            var sad = await columns.DoublesAsync(group, UtteranceColumns.ProbabilitySad, cancellationToken).ConfigureAwait(false);
            var neutral = await columns.DoublesAsync(group, UtteranceColumns.ProbabilityNeutral, cancellationToken).ConfigureAwait(false);
            var valence = await columns.DoublesAsync(group, UtteranceColumns.Valence, cancellationToken).ConfigureAwait(false);
            var arousal = await columns.DoublesAsync(group, UtteranceColumns.Arousal, cancellationToken).ConfigureAwait(false);
            var textUsed = await columns.BooleansAsync(group, UtteranceColumns.TextUsed, cancellationToken, optional: true).ConfigureAwait(false);
            var modelNames = await columns.StringsAsync(group, UtteranceColumns.ModelName, cancellationToken).ConfigureAwait(false);
            var modelVersions = await columns.StringsAsync(group, UtteranceColumns.ModelVersion, cancellationToken).ConfigureAwait(false);
            var processedAt = await columns.TimestampsAsync(group, UtteranceColumns.ProcessedAt, cancellationToken).ConfigureAwait(false);
            // Files written before channel splitting lack these columns: one mixed stream, no roles, no overlap.
            var channels = await columns.IntegersAsync(group, UtteranceColumns.Channel, cancellationToken, optional: true).ConfigureAwait(false);
            var roles = await columns.StringsAsync(group, UtteranceColumns.SpeakerRole, cancellationToken, optional: true).ConfigureAwait(false);
            var overlaps = await columns.BooleansAsync(group, UtteranceColumns.Overlap, cancellationToken, optional: true).ConfigureAwait(false);
            // Files written before the VAD's fallback pass lack it: unknown, and every row was found at Vad:Threshold.
            var vadThresholds = await columns.DoublesAsync(group, UtteranceColumns.VadThreshold, cancellationToken, optional: true).ConfigureAwait(false);

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
                    VadThreshold = vadThresholds[i] is { } t ? (float)t : null,
                });
            }
        }
        return rows;
    }
}

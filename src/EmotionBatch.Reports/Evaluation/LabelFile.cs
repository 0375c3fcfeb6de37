using System.Text;
using EmotionBatch.Core;

namespace EmotionBatch.Reports.Evaluation;

/// <summary>
/// Reads the known emotions of recordings from a CSV file with a header row: a <c>recording_id</c> column (as the
/// output writes it), a <c>label</c> column (angry, happy, sad or neutral) and, optionally, the column named by
/// <c>groupBy</c> (e.g. <c>corpus</c>). Fields may be quoted as in RFC 4180, so ids may hold commas.
/// </summary>
public static class LabelFile
{
    public const string RecordingIdColumn = "recording_id";
    public const string LabelColumn = "label";

    /// <exception cref="InvalidDataException">A missing column, an unknown label, a duplicate id, or a malformed line; the message names the line.</exception>
    public static async Task<IReadOnlyList<LabelledRecording>> ReadAsync(string path, string? groupBy, CancellationToken cancellationToken)
    {
        var text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        return Parse(text, groupBy, path);
    }

    internal static IReadOnlyList<LabelledRecording> Parse(string text, string? groupBy, string source)
    {
        var records = ParseCsv(text, source);
        if (records.Count == 0)
        {
            throw new InvalidDataException($"{source}: empty; expected a header row with {RecordingIdColumn} and {LabelColumn}.");
        }
        var header = records[0].Fields.Select(f => f.Trim()).ToList();
        var id = Column(header, RecordingIdColumn, source);
        var label = Column(header, LabelColumn, source);
        var group = groupBy is null ? -1 : Column(header, groupBy, source);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<LabelledRecording>();
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.All(f => f.Trim().Length == 0))
            {
                continue; // a blank line, or one of only commas as spreadsheets write them
            }
            if (fields.Count != header.Count)
            {
                throw new InvalidDataException($"{source}:{line}: {fields.Count} fields, the header has {header.Count}.");
            }
            var recording = fields[id].Trim();
            var emotion = fields[label].Trim().ToLowerInvariant();
            if (recording.Length == 0)
            {
                throw new InvalidDataException($"{source}:{line}: empty {RecordingIdColumn}.");
            }
            if (!EmotionLabels.All.Contains(emotion))
            {
                throw new InvalidDataException(
                    $"{source}:{line}: label '{fields[label]}' cannot be scored; the model's labels are {string.Join(", ", EmotionLabels.All)} (leave other emotions out of the file).");
            }
            if (!seen.Add(recording))
            {
                throw new InvalidDataException($"{source}:{line}: recording '{recording}' is labelled twice.");
            }
            var groupValue = group < 0 ? null : fields[group].Trim();
            result.Add(new LabelledRecording(recording, emotion, string.IsNullOrEmpty(groupValue) ? null : groupValue));
        }
        return result;
    }

    private static int Column(List<string> header, string name, string source)
    {
        var index = header.FindIndex(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
        return index >= 0
            ? index
            : throw new InvalidDataException($"{source}: no '{name}' column (the header has: {string.Join(", ", header)}).");
    }

    /// <summary>RFC 4180 records with the line each starts on; quoted fields may hold commas, quotes ("") and line breaks.</summary>
    private static List<(int Line, List<string> Fields)> ParseCsv(string text, string source)
    {
        var records = new List<(int, List<string>)>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var start = 1;
        var quoted = false;
        var i = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') { quoted = false; }
                else { if (c == '\n') { line++; } field.Append(c); }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0:
                    quoted = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    break;
                case '\r':
                    break;
                case '\n':
                    fields.Add(field.ToString());
                    field.Clear();
                    records.Add((start, fields));
                    fields = [];
                    line++;
                    start = line;
                    break;
                default:
                    field.Append(c);
                    break;
            }
        }
        if (quoted)
        {
            throw new InvalidDataException($"{source}:{start}: a quoted field is not closed.");
        }
        if (field.Length > 0 || fields.Count > 0)
        {
            fields.Add(field.ToString());
            records.Add((start, fields));
        }
        return records;
    }
}

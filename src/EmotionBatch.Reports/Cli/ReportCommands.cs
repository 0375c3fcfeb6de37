using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EmotionBatch.Core;
using EmotionBatch.Datasets;
using EmotionBatch.Reports.Evaluation;
using EmotionBatch.Reports.Timeline;

namespace EmotionBatch.Reports.Cli;

/// <summary>The <c>report</c>, <c>summarize</c> and <c>evaluate</c> commands, which read the Parquet output back.</summary>
public static class ReportCommands
{
    public const int ExitOk = 0;
    public const int ExitNoData = 2;

    /// <summary>
    /// <c>report --input out --recording &lt;id&gt; --output report.png [--format png|svg]</c>; without --recording,
    /// one picture per recording into the --output folder.
    /// </summary>
    public static Command CreateReportCommand()
    {
        var input = InputOption();
        var recording = new Option<string?>("--recording", "-r")
        {
            Description = "Recording id (as in the recording_id column). Without it, every recording gets a picture.",
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Picture file with --recording (default: report.png), else a folder (default: reports).",
        };
        var format = new Option<string?>("--format", "-f")
        {
            Description = "png or svg (default: from the --output extension, else png).",
        };
        format.AcceptOnlyFromAmong("png", "svg");
        var width = new Option<int>("--width") { Description = "Picture width in pixels.", DefaultValueFactory = _ => TimelineReport.DefaultWidth };
        var height = new Option<int>("--height") { Description = "Picture height in pixels.", DefaultValueFactory = _ => TimelineReport.DefaultHeight };

        var command = new Command("report", "Render emotion timelines (valence, arousal and emotion per utterance) from the Parquet output.");
        command.Options.Add(input);
        command.Options.Add(recording);
        command.Options.Add(output);
        command.Options.Add(format);
        command.Options.Add(width);
        command.Options.Add(height);
        command.SetAction((parse, cancellationToken) => ReportAsync(
            parse.GetRequiredValue(input), parse.GetValue(recording), parse.GetValue(output), parse.GetValue(format),
            parse.GetValue(width), parse.GetValue(height), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    /// <summary><c>summarize --input out [--output out] [--recording id]</c>: rebuilds the summaries dataset from the utterances.</summary>
    public static Command CreateSummarizeCommand()
    {
        var input = InputOption();
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Output folder that receives summaries/ (default: the --input folder).",
        };
        var recording = new Option<string?>("--recording", "-r") { Description = "Only this recording id." };

        var command = new Command("summarize", "Rebuild per-recording summaries (speech share, emotion shares, mean valence/arousal) as Parquet under summaries/.");
        command.Options.Add(input);
        command.Options.Add(output);
        command.Options.Add(recording);
        command.SetAction((parse, cancellationToken) => SummarizeAsync(
            parse.GetRequiredValue(input), parse.GetValue(output), parse.GetValue(recording),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken));
        return command;
    }

    /// <summary>
    /// <c>evaluate --input out --labels labels.csv [--group-by corpus] [--json]</c>: how well the output matches known
    /// emotions of whole recordings (duration-weighted mean of the utterance probabilities), overall and per group.
    /// </summary>
    public static Command CreateEvaluateCommand()
    {
        var input = InputOption();
        var labels = new Option<string>("--labels", "-l")
        {
            Description = $"CSV with a header row: {LabelFile.RecordingIdColumn} (as in the output), {LabelFile.LabelColumn} (angry, happy, sad or neutral), optional group column.",
            Required = true,
        };
        var groupBy = new Option<string?>("--group-by", "-g") { Description = "A column of the labels file to score separately (e.g. corpus)." };
        var json = new Option<bool>("--json") { Description = "Print the scores as JSON instead of a table." };
        var recordings = new Option<string?>("--recordings")
        {
            Description = "Also write a CSV of every labelled recording: label, group, predicted emotion, mean probabilities, valence, arousal, utterances, speech seconds.",
        };

        var command = new Command("evaluate", "Score the output against known emotions of whole recordings: UAR, WAR, recall per emotion, confusion, arousal and valence AUC.");
        command.Options.Add(input);
        command.Options.Add(labels);
        command.Options.Add(groupBy);
        command.Options.Add(json);
        command.Options.Add(recordings);
        command.SetAction((parse, cancellationToken) => EvaluateAsync(
            parse.GetRequiredValue(input), parse.GetRequiredValue(labels), parse.GetValue(groupBy), parse.GetValue(json),
            parse.GetValue(recordings), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken));
        return command;
    }

    private static async Task WriteVerdictsAsync(
        IReadOnlyList<(LabelledRecording Label, RecordingVerdict? Verdict)> verdicts, Stream stream, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
        await writer.WriteLineAsync("recording_id,label,group,predicted,p_angry,p_happy,p_sad,p_neutral,valence,arousal,utterances,speech_seconds".AsMemory(), cancellationToken).ConfigureAwait(false);
        foreach (var (label, verdict) in verdicts)
        {
            var fields = verdict is null
                ? [Csv(label.RecordingId), label.Label, Csv(label.Group ?? ""), "", "", "", "", "", "", "", "0", "0"]
                : new[] { Csv(label.RecordingId), label.Label, Csv(label.Group ?? ""), verdict.Predicted }
                    .Concat(verdict.Probabilities.Select(F))
                    .Concat([F(verdict.Valence), F(verdict.Arousal), verdict.Utterances.ToString(CultureInfo.InvariantCulture), F(verdict.SpeechSeconds)]);
            await writer.WriteLineAsync(string.Join(',', fields).AsMemory(), cancellationToken).ConfigureAwait(false);
        }

        static string F(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
        static string Csv(string value) => value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
    }

    private static readonly JsonSerializerOptions EvaluationJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The processing run's output folder, given it or its utterances folder (as --input accepts both).</summary>
    private static string OutputRoot(string input) =>
        Directory.Exists(Path.Combine(input, DatasetLayout.Utterances)) ? input : Path.GetDirectoryName(Path.GetFullPath(input))!;

    private static Option<string> InputOption() => new("--input", "-i")
    {
        Description = "Output folder of a processing run (holding utterances/), or the utterances folder itself.",
        DefaultValueFactory = _ => "out",
    };

    private static async Task<int> ReportAsync(
        string input, string? recordingId, string? output, string? formatName, int width, int height,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        IReadOnlyList<UtteranceRow> rows;
        try
        {
            rows = await new UtteranceDatasetReader(input).ReadAsync(recordingId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or InvalidDataException)
        {
            await stderr.WriteLineAsync(e.Message).ConfigureAwait(false);
            return ExitNoData;
        }
        rows = UtteranceDataset.LatestVersions(rows);
        if (rows.Count == 0)
        {
            await stderr.WriteLineAsync(recordingId is null
                ? $"No utterances under {Path.GetFullPath(input)}."
                : $"No utterances of recording '{recordingId}' under {Path.GetFullPath(input)} (ids are as in the recording_id column).").ConfigureAwait(false);
            return ExitNoData;
        }

        var durations = await KnownDurationsAsync(input, cancellationToken).ConfigureAwait(false);
        if (recordingId is not null)
        {
            var format = formatName is null ? ReportFormats.FromPath(output ?? "report.png") : Parse(formatName);
            var path = output ?? "report" + ReportFormats.Extension(format);
            await TimelineReport.SaveAsync(rows, path, format, width, height, durations.GetValueOrDefault(recordingId), cancellationToken).ConfigureAwait(false);
            await stdout.WriteLineAsync($"{recordingId}: {rows.Count} utterances -> {Path.GetFullPath(path)}").ConfigureAwait(false);
            return ExitOk;
        }

        var folder = Path.GetFullPath(output ?? "reports");
        var allFormat = formatName is null ? ReportFormat.Png : Parse(formatName);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var recording in UtteranceDataset.ByRecording(rows))
        {
            var id = recording[0].RecordingId;
            var name = FileNameFor(id, used) + ReportFormats.Extension(allFormat);
            var path = Path.Combine(folder, name);
            await TimelineReport.SaveAsync(recording, path, allFormat, width, height, durations.GetValueOrDefault(id), cancellationToken).ConfigureAwait(false);
            await stdout.WriteLineAsync($"{id}: {recording.Count} utterances -> {path}").ConfigureAwait(false);
        }
        return ExitOk;
    }

    private static async Task<int> SummarizeAsync(
        string input, string? output, string? recordingId, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var destination = output ?? OutputRoot(input);
        IReadOnlyList<RecordingSummary> summaries;
        try
        {
            summaries = await SummaryDatasetBuilder.RebuildAsync(input, destination, recordingId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or InvalidDataException)
        {
            await stderr.WriteLineAsync(e.Message).ConfigureAwait(false);
            return ExitNoData;
        }
        if (summaries.Count == 0)
        {
            await stderr.WriteLineAsync($"No utterances to summarise under {Path.GetFullPath(input)}.").ConfigureAwait(false);
            return ExitNoData;
        }
        foreach (var s in summaries)
        {
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{s.RecordingId}: {s.Utterances} utterances, {s.SpeechShare:P0} speech, mostly {s.DominantEmotion ?? "-"} (valence {s.MeanValence:+0.00;-0.00}, arousal {s.MeanArousal:+0.00;-0.00})")).ConfigureAwait(false);
        }
        await stdout.WriteLineAsync($"{summaries.Count} summaries written to {Path.Combine(Path.GetFullPath(destination), DatasetLayout.Summaries)}").ConfigureAwait(false);
        return ExitOk;
    }

    private static async Task<int> EvaluateAsync(
        string input, string labelsPath, string? groupBy, bool json, string? recordingsPath, TextWriter stdout, TextWriter stderr,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<LabelledRecording> labels;
        IReadOnlyList<UtteranceRow> rows;
        HashSet<string> withoutSpeech;
        try
        {
            labels = await LabelFile.ReadAsync(labelsPath, groupBy, cancellationToken).ConfigureAwait(false);
            rows = UtteranceDataset.LatestVersions(await new UtteranceDatasetReader(input).ReadAsync(null, cancellationToken).ConfigureAwait(false));
            // A recording processed without speech has no utterance rows and a final (not retried) segment-stage
            // row in the errors dataset; its later versions may have speech, which the rows then show.
            var root = OutputRoot(input);
            withoutSpeech = (await FailureParquet.ReadAllAsync(root, cancellationToken).ConfigureAwait(false))
                .Where(failure => failure.Stage == PipelineStage.Segment && !failure.WillRetry)
                .Select(failure => failure.RecordingId).ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            await stderr.WriteLineAsync(e.Message).ConfigureAwait(false);
            return ExitNoData;
        }
        if (labels.Count == 0)
        {
            await stderr.WriteLineAsync($"{labelsPath}: no labelled recordings.").ConfigureAwait(false);
            return ExitNoData;
        }
        var verdicts = RecordingEvaluation.Verdicts(rows, labels, withoutSpeech);
        if (verdicts.Scored.Count == 0)
        {
            var example = rows.Count > 0 ? $" (the output has e.g. '{rows[0].RecordingId}')" : "";
            await stderr.WriteLineAsync($"None of the {labels.Count} labelled recording ids is in the output under {Path.GetFullPath(input)}{example}.").ConfigureAwait(false);
            return ExitNoData;
        }
        if (verdicts.NotInOutput.Count > 0)
        {
            // Not processed (yet), failed, or ids written another way: left out of the scores, never counted as misses.
            var examples = string.Join(", ", verdicts.NotInOutput.Take(3).Select(label => $"'{label.RecordingId}'"));
            await stderr.WriteLineAsync($"{verdicts.NotInOutput.Count} of {labels.Count} labelled recordings are not in the output and are left out (e.g. {examples}); see the errors dataset for failures.").ConfigureAwait(false);
        }

        var scores = RecordingEvaluation.Score(verdicts.Scored);
        if (recordingsPath is not null)
        {
            try
            {
                await AtomicFile.WriteAsync(recordingsPath, (stream, token) => WriteVerdictsAsync(verdicts.Scored, stream, token), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await stderr.WriteLineAsync($"Could not write {recordingsPath}: {e.Message}").ConfigureAwait(false);
                return ExitNoData;
            }
        }
        var labelled = verdicts.Scored.Select(item => item.Label.RecordingId).ToHashSet(StringComparer.Ordinal);
        var models = rows.Where(row => labelled.Contains(row.RecordingId)).Select(row => $"{row.ModelName} {row.ModelVersion}").Distinct().Order().ToList();
        if (json)
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(new { models, labels = EmotionLabels.All, not_in_output = verdicts.NotInOutput.Count, groups = scores }, EvaluationJson)).ConfigureAwait(false);
            return ExitOk;
        }
        await stdout.WriteLineAsync($"model: {string.Join("; ", models)}").ConfigureAwait(false);
        var width = Math.Max(8, scores.Max(s => s.Group.Length));
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{"group".PadRight(width)} {"n",6} {"no speech",9} {"UAR",6} {"WAR",6} {string.Join(" ", EmotionLabels.All.Select(l => l.PadLeft(7)))} {"arousal AUC",11} {"valence AUC",11}")).ConfigureAwait(false);
        foreach (var s in scores)
        {
            static string Cell(double? value, int pad) => (value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "-").PadLeft(pad);
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{s.Group.PadRight(width)} {s.Recordings,6} {s.WithoutSpeech,9} {Cell(s.Uar, 6)} {Cell(s.War, 6)} {string.Join(" ", s.Recall.Select(r => Cell(r, 7)))} {Cell(s.ArousalAuc, 11)} {Cell(s.ValenceAuc, 11)}")).ConfigureAwait(false);
        }
        return ExitOk;
    }

    /// <summary>Durations measured at processing time, where summaries exist; otherwise the timeline ends with the last utterance.</summary>
    private static async Task<Dictionary<string, double>> KnownDurationsAsync(string input, CancellationToken cancellationToken)
    {
        var root = OutputRoot(input);
        var durations = new Dictionary<string, double>(StringComparer.Ordinal);
        try
        {
            foreach (var summary in (await SummaryDatasetBuilder.ReadAllAsync(root, cancellationToken).ConfigureAwait(false)).OrderBy(s => s.ProcessedAtUtc))
            {
                durations[summary.RecordingId] = summary.DurationSeconds;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // Summaries only refine the x axis; a damaged one must not stop the pictures.
        }
        return durations;
    }

    private static ReportFormat Parse(string name) =>
        string.Equals(name, "svg", StringComparison.OrdinalIgnoreCase) ? ReportFormat.Svg : ReportFormat.Png;

    /// <summary>A file name from a recording id ("2026/11/call 17.wav" -> "2026_11_call_17.wav"), unique within one run.</summary>
    internal static string FileNameFor(string recordingId, ISet<string> used)
    {
        var builder = new StringBuilder(recordingId.Length);
        foreach (var c in recordingId)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_');
        }
        var name = builder.ToString().Trim('.', '_');
        if (name.Length == 0 || name.Length > 120)
        {
            name = (name.Length > 120 ? name[..100] + "_" : "") + RecordingKey.IdHashOf(recordingId)[..12];
        }
        // Two ids can sanitise to the same name ("a/b" and "a_b"): the second gets a hash suffix.
        if (!used.Add(name))
        {
            name = $"{name}_{RecordingKey.IdHashOf(recordingId)[..12]}";
            used.Add(name);
        }
        return name;
    }
}

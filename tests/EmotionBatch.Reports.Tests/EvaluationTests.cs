using System.Text.Json;
using EmotionBatch.Core;
using EmotionBatch.Datasets;
using EmotionBatch.Reports.Evaluation;
using EmotionBatch.Testing;

namespace EmotionBatch.Reports.Tests;

public sealed class EvaluationTests
{
    private static UtteranceRow Row(string id, double start, double end, float angry, float happy, float sad, float neutral,
        float valence = 0, float arousal = 0) =>
        new(id, $"file:///r/{id}", "e1", (int)(start * 10), start, end, null, null, "neutral", angry, happy, sad, neutral,
            valence, arousal, TextUsed: false, "m", "9.9.9", SampleDataset.ProcessedAt);

    [Fact]
    public void A_recording_is_the_duration_weighted_mean_of_its_utterances()
    {
        // 1 s clearly angry, 3 s mildly sad: by count angry would win, by time sad does.
        var verdict = RecordingVerdict.From([
            Row("r", 0, 1, 0.9f, 0.0f, 0.1f, 0.0f, valence: -0.8f, arousal: 0.8f),
            Row("r", 2, 5, 0.1f, 0.0f, 0.6f, 0.3f, valence: 0.0f, arousal: -0.4f)]);

        Assert.Equal("sad", verdict.Predicted);
        Assert.Equal(0.25 * 0.9 + 0.75 * 0.1, verdict.Probabilities[0], 6);
        Assert.Equal(0.25 * 0.1 + 0.75 * 0.6, verdict.Probabilities[2], 6);
        Assert.Equal(0.25 * -0.8, verdict.Valence, 6);
        Assert.Equal(0.25 * 0.8 + 0.75 * -0.4, verdict.Arousal, 6);
    }

    [Fact]
    public void Scores_count_recordings_without_speech_as_misses_and_rank_aucs_by_the_mean_outputs()
    {
        LabelledRecording[] labels =
        [
            new("a1", "angry", "x"), new("a2", "angry", "y"), new("h1", "happy", "x"), new("s1", "sad", "x"),
            new("n1", "neutral", "y"), new("n2", "neutral", "y"), new("x9", "happy", "y"),
        ];
        UtteranceRow[] rows =
        [
            Row("a1", 0, 1, 0.7f, 0.1f, 0.1f, 0.1f, valence: -0.5f, arousal: 0.6f),
            Row("a2", 0, 1, 0.1f, 0.6f, 0.2f, 0.1f, valence: 0.3f, arousal: 0.2f), // angry heard as happy
            Row("h1", 0, 1, 0.1f, 0.7f, 0.1f, 0.1f, valence: 0.6f, arousal: 0.5f),
            Row("s1", 0, 1, 0.1f, 0.1f, 0.7f, 0.1f, valence: -0.4f, arousal: 0.3f), // sad more aroused than a2
            Row("n1", 0, 1, 0.1f, 0.1f, 0.1f, 0.7f, valence: 0.0f, arousal: -0.2f),
            // n2: processed, no speech found; x9: not in the output at all (left out, not a miss)
        ];

        var scores = RecordingEvaluation.Score(rows, labels, new HashSet<string> { "n2" });
        Assert.Equal(["x9"], RecordingEvaluation.Verdicts(rows, labels, new HashSet<string> { "n2" }).NotInOutput.Select(l => l.RecordingId));

        Assert.Equal(["all", "x", "y"], scores.Select(s => s.Group));
        var all = scores[0];
        Assert.Equal((6, 1), (all.Recordings, all.WithoutSpeech));
        Assert.Equal([0.5, 1.0, 1.0, 0.5], all.Recall.Select(r => r!.Value));
        Assert.Equal(0.75, all.Uar, 6);
        Assert.Equal(4.0 / 6, all.War, 6);
        Assert.Equal([0, 0, 0, 1, 1], all.Confusion[3]); // neutral: one right, one without speech
        Assert.Equal(1, all.Confusion[0][1]);
        // Arousal: positives a1 .6, a2 .2, h1 .5; negatives s1 .3, n1 -.2 -> a2 loses to s1 only: 5 of 6 pairs.
        Assert.Equal(5.0 / 6, all.ArousalAuc!.Value, 6);
        // Valence: happy h1 .6 against a1 -.5, a2 .3, s1 -.4: all 3 pairs.
        Assert.Equal(1.0, all.ValenceAuc!.Value, 6);
        var y = scores[2];
        Assert.Equal((3, 1), (y.Recordings, y.WithoutSpeech));
        Assert.Null(y.Recall[1]);
        Assert.Equal((0.0 + 0.5) / 2, y.Uar, 6);
        Assert.Null(y.ValenceAuc);
    }

    [Fact]
    public void Auc_counts_ties_as_half()
    {
        Assert.Equal(0.5, RecordingEvaluation.Auc([1.0], [1.0]));
        Assert.Equal(0.75, RecordingEvaluation.Auc([1.0, 2.0], [1.0]));
        Assert.Null(RecordingEvaluation.Auc([], [1.0]));
    }

    [Fact]
    public void Label_files_take_quoted_ids_a_bom_and_any_column_order()
    {
        var labels = LabelFile.Parse("\uFEFFcorpus,label,recording_id\r\nemodb,Angry,\"calls/a, b.wav\"\r\n\r\n,,\nravdess,sad,\"say \"\"hi\"\".wav\"\n,neutral, c.wav \n", "corpus", "l.csv");

        Assert.Equal([new LabelledRecording("calls/a, b.wav", "angry", "emodb"), new LabelledRecording("say \"hi\".wav", "sad", "ravdess"),
            new LabelledRecording("c.wav", "neutral", null)], labels);
    }

    [Theory]
    [InlineData("recording_id,label\na.wav,fear\n", "l.csv:2: label 'fear' cannot be scored")]
    [InlineData("recording_id,label\na.wav,sad\na.wav,happy\n", "l.csv:3: recording 'a.wav' is labelled twice")]
    [InlineData("id,label\na.wav,sad\n", "no 'recording_id' column")]
    [InlineData("recording_id,label\na.wav,sad,extra\n", "l.csv:2: 3 fields, the header has 2")]
    [InlineData("recording_id,label\n\"a.wav,sad\n", "l.csv:2: a quoted field is not closed")]
    public void Label_files_with_mistakes_are_refused_naming_the_line(string text, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => LabelFile.Parse(text, null, "l.csv"));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task Evaluate_scores_the_parquet_output_as_duckdb_reads_it()
    {
        using var temp = RepoPaths.NewTempFolder("cli-evaluate");
        const string oddId = "calls/a, \"b\".wav";
        await TestDatasetWriter.WriteUtterancesAsync(temp.Path, [.. SampleDataset.All(), Row(oddId, 0, 2, 0.1f, 0.2f, 0.6f, 0.1f)]);
        // Processed, no speech found: the worker writes no utterance rows and a final segment-stage error row (as
        // RecordingPipeline does); a decode failure that will be retried is not "no speech".
        await TestDatasetWriter.WriteErrorsAsync(temp.Path, [
            new FailureRow("silence.wav", "file:///data/recordings/silence.wav", "e0", PipelineStage.Segment,
                "no speech detected in 12.0 s of audio", 1, false, SampleDataset.ProcessedAt),
            new FailureRow("never-processed.wav", "file:///data/recordings/never-processed.wav", "e1", PipelineStage.Decode,
                "ffmpeg: Invalid data found when processing input", 1, true, SampleDataset.ProcessedAt)]);
        var labels = temp.File("labels.csv");
        await File.WriteAllTextAsync(labels, string.Join('\n',
            "recording_id,label,source",
            "complaint.mp3,angry,calls",
            "good-news.ogg,happy,podcast",
            "bad-news.m4a,sad,podcast",
            "support-call.wav,sad,calls",
            $"{SampleDataset.LongCallId},neutral,calls",
            "silence.wav,neutral,calls",
            "\"calls/a, \"\"b\"\".wav\",sad,calls",
            "never-processed.wav,neutral,calls"));

        var (code, stdout, stderr) = await ReportCommandsTests.RunAsync("evaluate", "-i", temp.Path, "-l", labels, "--group-by", "source", "--json");

        Assert.True(code == 0, stderr);
        Assert.Contains("1 of 8 labelled recordings are not in the output and are left out (e.g. 'never-processed.wav')", stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(1, json.RootElement.GetProperty("not_in_output").GetInt32());
        var groups = json.RootElement.GetProperty("groups");
        var all = groups[0];
        Assert.Equal("all", all.GetProperty("group").GetString());
        Assert.Equal(7, all.GetProperty("recordings").GetInt32());
        Assert.Equal(1, all.GetProperty("without_speech").GetInt32());
        // The recording-level verdicts, computed independently by DuckDB from the Parquet files.
        var verdicts = Duck.Query($"""
            WITH means AS (
              SELECT recording_id,
                     sum((end_seconds - start_seconds) * p_angry) AS a, sum((end_seconds - start_seconds) * p_happy) AS h,
                     sum((end_seconds - start_seconds) * p_sad) AS s, sum((end_seconds - start_seconds) * p_neutral) AS n
              FROM read_parquet('{temp.Path.Replace("'", "''")}/utterances/**/*.parquet') GROUP BY recording_id)
            SELECT recording_id, CASE greatest(a, h, s, n) WHEN a THEN 'angry' WHEN h THEN 'happy' WHEN s THEN 'sad' ELSE 'neutral' END AS predicted
            FROM means
            """).Rows.ToDictionary(r => (string)r["recording_id"]!, r => (string)r["predicted"]!);
        var expectedConfusion = new int[4, 5];
        string[] order = ["angry", "happy", "sad", "neutral"];
        foreach (var (id, label) in new[] { ("complaint.mp3", "angry"), ("good-news.ogg", "happy"), ("bad-news.m4a", "sad"), ("support-call.wav", "sad"), (SampleDataset.LongCallId, "neutral"), (oddId, "sad") })
        {
            expectedConfusion[Array.IndexOf(order, label), Array.IndexOf(order, verdicts[id])]++;
        }
        expectedConfusion[3, 4]++;
        var confusion = all.GetProperty("confusion");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(Enumerable.Range(0, 5).Select(j => expectedConfusion[i, j]), confusion[i].EnumerateArray().Select(c => c.GetInt32()));
        }
        Assert.Equal(["all", "calls", "podcast"], groups.EnumerateArray().Select(g => g.GetProperty("group").GetString()));
        Assert.Equal("emotionbatch-default 1.0.0", json.RootElement.GetProperty("models")[0].GetString());

        (code, stdout, _) = await ReportCommandsTests.RunAsync("evaluate", "-i", temp.Path, "-l", labels, "--recordings", temp.File("verdicts.csv"));
        Assert.Equal(0, code);
        Assert.Contains("model: emotionbatch-default 1.0.0", stdout);
        Assert.Contains("arousal AUC", stdout);
        // One line per labelled recording, read back by DuckDB; the one without speech has no prediction.
        var lines = Duck.Query($"SELECT recording_id, label, predicted, utterances, p_angry + p_happy + p_sad + p_neutral AS total FROM read_csv('{temp.File("verdicts.csv").Replace("'", "''")}', header = true, all_varchar = false) ORDER BY recording_id").Rows;
        Assert.Equal(7, lines.Count);
        Assert.Equal("sad", lines.Single(r => (string)r["recording_id"]! == oddId)["predicted"]);
        var call = lines.Single(r => (string)r["recording_id"]! == SampleDataset.LongCallId);
        Assert.Equal((verdicts[SampleDataset.LongCallId], 28L), ((string)call["predicted"]!, Convert.ToInt64(call["utterances"], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(1.0, Duck.Double(call["total"]), 4);
        var silent = lines.Single(r => (string)r["recording_id"]! == "silence.wav");
        Assert.Null(silent["predicted"]);
    }

    [Fact]
    public async Task Evaluate_with_ids_that_match_nothing_says_what_the_output_holds()
    {
        using var temp = RepoPaths.NewTempFolder("cli-evaluate-ids");
        await TestDatasetWriter.WriteUtterancesAsync(temp.Path, SampleDataset.All());
        var labels = temp.File("labels.csv");
        await File.WriteAllTextAsync(labels, "recording_id,label\n/data/recordings/complaint.mp3,angry\n");

        var (code, _, stderr) = await ReportCommandsTests.RunAsync("evaluate", "-i", temp.Path, "-l", labels);

        Assert.Equal(2, code);
        Assert.Contains("None of the 1 labelled recording ids is in the output", stderr);
        Assert.Contains("the output has e.g.", stderr);

        await File.WriteAllTextAsync(labels, "recording_id,label\ncomplaint.mp3,furious\n");
        (code, _, stderr) = await ReportCommandsTests.RunAsync("evaluate", "-i", temp.Path, "-l", labels);
        Assert.Equal(2, code);
        Assert.Contains("label 'furious' cannot be scored", stderr);
    }
}

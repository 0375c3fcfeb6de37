using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using EmotionBatch.Inference;
using EmotionBatch.Inference.Bundles;
using EmotionBatch.Testing;
using Xunit;

namespace EmotionBatch.Worker.Tests;

/// <summary>
/// The commands that prepare training on frozen encoders and check assembled bundles, run as the real executable:
/// encode-audio writes what the worker's own acoustic encoder computes, verify-bundle passes a good bundle and
/// fails a tampered one.
/// </summary>
public sealed class FeatureCacheCommandTests : IDisposable
{
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("feature-cache");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Encode_audio_writes_the_frames_the_worker_computes_from_a_bundle_that_names_only_its_acoustic_encoder()
    {
        // An acoustic-only bundle: the default bundle's graph and a manifest naming nothing else.
        var bundle = Directory.CreateDirectory(_temp.File("acoustic-only")).FullName;
        var full = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(WorkerHarness.Bundle, "manifest.json")))!;
        var acoustic = full["acoustic_encoder"]!.DeepClone();
        File.Copy(Path.Combine(WorkerHarness.Bundle, (string)acoustic["file"]!), Path.Combine(bundle, (string)acoustic["file"]!));
        await File.WriteAllTextAsync(Path.Combine(bundle, "manifest.json"), new JsonObject
        {
            ["format_version"] = 1, ["name"] = "frozen-acoustic", ["version"] = "1", ["sample_rate"] = 16000,
            ["max_audio_seconds"] = 2.0, ["acoustic_encoder"] = acoustic,
        }.ToJsonString());
        var shortClip = await TestAudio.ToneAsync(_temp.File("short.wav"), 0.7);
        // Longer than max_audio_seconds: cut to its centre, as the worker does.
        var longClip = await TestAudio.ToneAsync(_temp.File("long.wav"), 3.5, frequencyHz: 300);
        var clips = _temp.File("clips.tsv");
        await File.WriteAllTextAsync(clips, $"id\tpath\nshort\t{shortClip}\nlong\t{longClip}\n");
        var output = _temp.File("cache");

        using var run = WorkerProcess.Start(WorkerProcess.BaseSettings(_temp.File("work")), "encode-audio", "--input", clips, "--output", output, "--bundle", bundle);
        Assert.True(await run.WaitForExitAsync(TimeSpan.FromMinutes(2)), run.Output);
        Assert.True(run.ExitCode == 0, run.Output);

        using var meta = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "meta.json")));
        var dim = meta.RootElement.GetProperty("dim").GetInt32();
        var index = (await File.ReadAllLinesAsync(Path.Combine(output, "index.tsv"))).Skip(1).Select(line => line.Split('\t')).ToList();
        Assert.Equal(["short", "long"], index.Select(row => row[0]));
        var features = await File.ReadAllBytesAsync(Path.Combine(output, "features.f16"));

        // The same clips through the worker's AcousticEncoder in this process.
        var (graph, maxSamples) = ModelBundle.LoadAcousticEncoder(bundle);
        Assert.Equal(graph.Dim, dim);
        using var encoder = new AcousticEncoder(graph, maxSamples, new SessionFactory(new ModelOptions { BundlePath = bundle, IntraOpThreads = 1 }));
        var expected = encoder.Extract([await DecodeAsync(shortClip), await DecodeAsync(longClip)]);
        for (var i = 0; i < 2; i++)
        {
            var (offset, length) = (int.Parse(index[i][1]), int.Parse(index[i][2]));
            Assert.Equal(expected[i].Length / dim, length);
            for (var v = 0; v < length * dim; v++)
            {
                var cached = (float)BinaryPrimitives.ReadHalfLittleEndian(features.AsSpan((offset * dim + v) * 2));
                Assert.True(Math.Abs(cached - expected[i][v]) <= 2e-3 * Math.Max(1, Math.Abs(expected[i][v])), $"clip {i} value {v}: {cached} vs {expected[i][v]}");
            }
        }
        Assert.Equal((int.Parse(index[1][1]) + int.Parse(index[1][2])) * dim * 2, features.Length);
    }

    [Fact]
    public async Task Segment_writes_the_utterance_times_process_writes_and_a_row_for_a_clip_without_speech()
    {
        var folder = Directory.CreateDirectory(_temp.File("clips")).FullName;
        foreach (var name in new[] { "support-call.wav", "complaint.mp3", "good-news.ogg" })
        {
            File.Copy(Path.Combine(RepoPaths.Root, "samples", "recordings", name), Path.Combine(folder, name));
        }
        await TestAudio.SilenceAsync(Path.Combine(folder, "quiet.wav"), 2.0);
        // Sad Amharic speech in which Silero finds nothing at Vad:Threshold 0.5, and speech at the fallback's 0.2.
        File.Copy(RepoPaths.SharedFile("data", "ased", "flac", "s4-01-01-01-03.flac"), Path.Combine(folder, "soft.flac"));
        var clips = _temp.File("clips.tsv");
        await File.WriteAllTextAsync(clips, "id\tpath\n" + string.Concat(
            new[] { "support-call.wav", "quiet.wav", "complaint.mp3", "good-news.ogg", "soft.flac" }.Select(name => $"{name}\t{Path.Combine(folder, name)}\n")));
        var segments = _temp.File("segments.tsv");
        var settings = WorkerProcess.BaseSettings(_temp.File("work"));

        using (var run = WorkerProcess.Start(settings, "segment", "--input", clips, "--output", segments))
        {
            Assert.True(await run.WaitForExitAsync(TimeSpan.FromMinutes(2)), run.Output);
            Assert.True(run.ExitCode == 0, run.Output);
        }
        var lines = await File.ReadAllLinesAsync(segments);
        Assert.Equal("id\tutterance_index\tstart_seconds\tend_seconds\tvad_threshold", lines[0]);
        var rows = lines.Skip(1).Select(line => line.Split('\t')).ToList();
        // Input order, and the silent clip present with no times rather than missing.
        Assert.Equal(["support-call.wav", "quiet.wav", "complaint.mp3", "good-news.ogg", "soft.flac"], rows.Select(r => r[0]).Distinct());
        Assert.Equal(["quiet.wav", "", "", "", ""], rows.Single(r => r[0] == "quiet.wav"));
        // Each clip is heard at one threshold: the fallback's only where the first pass found nothing.
        Assert.Equal(["0.2"], rows.Where(r => r[0] == "soft.flac").Select(r => r[4]).Distinct());
        Assert.Equal(["0.5"], rows.Where(r => r[0] is not "soft.flac" and not "quiet.wav").Select(r => r[4]).Distinct());

        // The same clips through `process`: the utterances it scored are the ones segment lists, to the microsecond.
        var output = _temp.File("out");
        using (var run = WorkerProcess.Start(settings, "process", folder, "--output", output))
        {
            Assert.True(await run.WaitForExitAsync(TimeSpan.FromMinutes(3)), run.Output);
            Assert.True(run.ExitCode == 0, run.Output);
        }
        var written = DuckDbParquet.Query(
            $"SELECT recording_id, utterance_index, start_seconds, end_seconds, vad_threshold FROM {DuckDbParquet.Source(Path.Combine(output, "utterances", "**", "*.parquet"))} ORDER BY 1, 2");
        var listed = rows.Where(r => r[1] != "").OrderBy(r => r[0], StringComparer.Ordinal).ThenBy(r => int.Parse(r[1])).ToList();
        Assert.True(written.Count >= 7, $"only {written.Count} utterances in four spoken samples");
        Assert.Equal(written.Count, listed.Count);
        for (var i = 0; i < listed.Count; i++)
        {
            Assert.Equal((string)written[i]["recording_id"]!, listed[i][0]);
            Assert.Equal(Convert.ToInt32(written[i]["utterance_index"]), int.Parse(listed[i][1]));
            Assert.Equal(Convert.ToDouble(written[i]["start_seconds"]), double.Parse(listed[i][2], System.Globalization.CultureInfo.InvariantCulture), 5);
            Assert.Equal(Convert.ToDouble(written[i]["end_seconds"]), double.Parse(listed[i][3], System.Globalization.CultureInfo.InvariantCulture), 5);
            Assert.Equal(Convert.ToDouble(written[i]["vad_threshold"]), double.Parse(listed[i][4], System.Globalization.CultureInfo.InvariantCulture), 5);
        }

        // A clip the decoder refuses fails the run, naming the clip, and leaves neither a partial list nor a temporary file.
        var broken = Path.Combine(folder, "broken.mp3");
        await File.WriteAllTextAsync(broken, "this is not an mp3");
        var badList = _temp.File("bad.tsv");
        await File.WriteAllTextAsync(badList, $"id\tpath\nfine\t{Path.Combine(folder, "support-call.wav")}\nbroken\t{broken}\n");
        var badFolder = Directory.CreateDirectory(_temp.File("bad-out")).FullName;
        using (var run = WorkerProcess.Start(settings, "segment", "--input", badList, "--output", Path.Combine(badFolder, "segments.tsv")))
        {
            Assert.True(await run.WaitForExitAsync(TimeSpan.FromMinutes(2)), run.Output);
            Assert.True(run.ExitCode != 0, run.Output);
            Assert.Contains("clip 'broken'", run.Output);
        }
        Assert.Empty(Directory.GetFiles(badFolder));
    }

    [Fact]
    public async Task Verify_bundle_passes_a_bundle_that_reproduces_its_parity_cases_and_fails_a_tampered_one()
    {
        using (var good = WorkerProcess.Start(WorkerProcess.BaseSettings(_temp.File("work")), "verify-bundle", "--bundle", WorkerHarness.Bundle))
        {
            Assert.True(await good.WaitForExitAsync(TimeSpan.FromMinutes(2)), good.Output);
            Assert.True(good.ExitCode == 0, good.Output);
            Assert.Contains("reproduces its parity cases", good.Output);
        }

        var tampered = Directory.CreateDirectory(_temp.File("tampered")).FullName;
        foreach (var file in Directory.GetFiles(WorkerHarness.Bundle))
        {
            File.Copy(file, Path.Combine(tampered, Path.GetFileName(file)));
        }
        var parity = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(tampered, "parity.json")))!;
        var logit = parity["cases"]![0]!["expected"]!["logits"]![0]!;
        logit.ReplaceWith(logit.GetValue<float>() + 0.5f);
        await File.WriteAllTextAsync(Path.Combine(tampered, "parity.json"), parity.ToJsonString());

        using (var bad = WorkerProcess.Start(WorkerProcess.BaseSettings(_temp.File("work")), "verify-bundle", "--bundle", tampered))
        {
            Assert.True(await bad.WaitForExitAsync(TimeSpan.FromMinutes(2)), bad.Output);
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains("case 0 logit 0", bad.Output);
        }

        // A bundle that does not load is another answer (exit 2), in one line without a stack trace.
        File.Delete(Path.Combine(tampered, "fusion_head.onnx"));
        using var broken = WorkerProcess.Start(WorkerProcess.BaseSettings(_temp.File("work")), "verify-bundle", "--bundle", tampered);
        Assert.True(await broken.WaitForExitAsync(TimeSpan.FromMinutes(2)), broken.Output);
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("does not load", broken.Output);
        Assert.DoesNotContain("   at ", broken.Output);
    }

    private async Task<ReadOnlyMemory<float>> DecodeAsync(string path)
    {
        var raw = _temp.File(Path.GetFileNameWithoutExtension(path) + ".f32");
        await TestAudio.RunFfmpegAsync(["-v", "error", "-y", "-i", path, "-ac", "1", "-ar", "16000", "-f", "f32le", raw]);
        var bytes = await File.ReadAllBytesAsync(raw);
        var samples = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, samples, 0, bytes.Length);
        return samples;
    }
}

using System.CommandLine;
using System.Globalization;
using EmotionBatch.Core;
using EmotionBatch.Inference;
using EmotionBatch.Inference.Bundles;
using EmotionBatch.Worker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EmotionBatch.Worker.Cli;

/// <summary>
/// <c>encode-audio</c>: caches a frozen acoustic encoder's frame features for training (e.g. HuBERT-large exported by
/// training/export_hubert.py), decoded by the worker's own decoder and run by the same code the worker runs before
/// its fusion head, so the head trains on exactly the frames it will see. The bundle needs only its acoustic encoder.
/// </summary>
public static class EncodeAudioCommand
{
    /// <summary>Clips decoded and held at once.</summary>
    private const int WindowClips = 64;

    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "TSV file: id<TAB>path of an audio file per line.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Folder for features.f16 (or .f32), index.tsv and meta.json.", Required = true };
        var bundle = new Option<string>("--bundle") { Description = "Bundle folder whose manifest names the acoustic encoder (other parts are optional).", Required = true };
        var batchSize = new Option<int>("--batch-size") { Description = "Clips per acoustic-encoder run (similar lengths together).", DefaultValueFactory = _ => 8 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads; 0 = one per CPU.", DefaultValueFactory = _ => 0 };
        var float32 = new Option<bool>("--float32") { Description = "Write full-precision features.f32 instead of float16 (for a bundle's parity cases)." };

        var command = new Command("encode-audio", "Export per-frame acoustic-encoder features of audio files for training.");
        foreach (var option in new Option[] { input, output, bundle, batchSize, threads, float32 })
        {
            command.Options.Add(option);
        }
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(input), parse.GetRequiredValue(output), parse.GetRequiredValue(bundle),
            Math.Max(1, parse.GetValue(batchSize)), parse.GetValue(threads), parse.GetValue(float32), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string input, string output, string bundlePath, int batchSize, int threads, bool fullPrecision, CancellationToken cancellationToken)
    {
        var (graph, maxAudioSamples) = ModelBundle.LoadAcousticEncoder(bundlePath);
        var overrides = new Dictionary<string, string?>
        {
            // One stream per clip, as training clips are single-speaker; the worker's decoder with its limits and checks.
            ["EmotionBatch:Decoder:Channels"] = nameof(ChannelMode.Mix),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        using var host = EmotionBatchHost.CreateBuilder([], overrides, LogLevel.Warning).Build();
        var decoder = host.Services.GetRequiredService<IAudioDecoder>();
        var sessions = new SessionFactory(new ModelOptions { BundlePath = bundlePath, IntraOpThreads = threads });
        using var encoder = new AcousticEncoder(graph, maxAudioSamples, sessions);

        // Windows of clips, decoded, encoded and written in input order: memory holds one window, not the corpus.
        var window = new List<(string Id, string Path)>(WindowClips);
        await using (var cache = new FeatureCacheWriter(output, encoder.Dim, "frames", "clip", fullPrecision))
        {
            await foreach (var clip in TsvInput.ReadAsync(input, "path", cancellationToken).ConfigureAwait(false))
            {
                window.Add(clip);
                if (window.Count == WindowClips)
                {
                    await EncodeWindowAsync(window, decoder, encoder, batchSize, cache, cancellationToken).ConfigureAwait(false);
                    window.Clear();
                }
            }
            await EncodeWindowAsync(window, decoder, encoder, batchSize, cache, cancellationToken).ConfigureAwait(false);
            await cache.CompleteAsync(json =>
            {
                json.WriteString("encoder", Path.GetFileName(graph.Path));
                json.WriteNumber("sample_rate", IAudioDecoder.SampleRate);
                json.WriteNumber("max_audio_seconds", maxAudioSamples / (double)IAudioDecoder.SampleRate);
                json.WriteString("cut", "clips longer than max_audio_seconds keep their centre, as in the worker");
                json.WriteNumber("clips", cache.Items);
                json.WriteNumber("total_frames", cache.Total);
            }, cancellationToken).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"encode-audio: {cache.Items} clips, {cache.Total} frames of dim {encoder.Dim} written to {Path.GetFullPath(output)}"));
        }
        return 0;
    }

    private static async Task EncodeWindowAsync(
        List<(string Id, string Path)> window, IAudioDecoder decoder, AcousticEncoder encoder, int batchSize, FeatureCacheWriter cache, CancellationToken cancellationToken)
    {
        var samples = new float[window.Count][];
        for (var i = 0; i < window.Count; i++)
        {
            try
            {
                // Cut to the encoder's longest input around the centre now, as it would be, so a long clip is not held whole.
                samples[i] = CentreCut(await DecodeAsync(decoder, window[i].Path, cancellationToken).ConfigureAwait(false), encoder.MaxAudioSamples);
            }
            catch (RecordingFailedException e)
            {
                throw new InvalidOperationException($"clip '{window[i].Id}' ({window[i].Path}): {e.Message}", e);
            }
        }
        var features = new float[window.Count][];
        // Similar lengths per run keep padding, and so wasted compute, small.
        foreach (var batch in LengthBatching.Batches(Array.ConvertAll(samples, s => Math.Min(s.Length, encoder.MaxAudioSamples)), batchSize))
        {
            var extracted = encoder.Extract(Array.ConvertAll(batch, i => (ReadOnlyMemory<float>)samples[i]));
            for (var k = 0; k < batch.Length; k++)
            {
                features[batch[k]] = extracted[k];
            }
        }
        for (var i = 0; i < window.Count; i++)
        {
            await cache.AddAsync(window[i].Id, features[i], cancellationToken).ConfigureAwait(false);
        }
    }

    private static float[] CentreCut(float[] samples, int maxSamples) =>
        samples.Length <= maxSamples ? samples : samples.AsSpan((samples.Length - maxSamples) / 2, maxSamples).ToArray();

    private static async Task<float[]> DecodeAsync(IAudioDecoder decoder, string path, CancellationToken cancellationToken)
    {
        await using var audio = await decoder.OpenAsync(Path.GetFullPath(path), cancellationToken).ConfigureAwait(false);
        var seconds = audio.Info.DurationSeconds;
        // The container's length sizes the buffer once; an unknown length grows it as it comes.
        var samples = new List<float>(double.IsFinite(seconds) && seconds > 0 ? (int)Math.Min(1 << 28, (seconds + 1) * IAudioDecoder.SampleRate) : 0);
        await foreach (var chunk in audio.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            samples.AddRange(chunk.Samples.Span);
        }
        return [.. samples];
    }
}

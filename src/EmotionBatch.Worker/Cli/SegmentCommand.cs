using System.CommandLine;
using System.Globalization;
using System.Text;
using EmotionBatch.Audio;
using EmotionBatch.Core;
using EmotionBatch.Datasets;
using EmotionBatch.Inference;
using EmotionBatch.Worker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Worker.Cli;

/// <summary>
/// <c>segment</c>: the utterances the worker's voice activity detection cuts from each audio file, as a TSV, so that
/// training can test (and train) its model on exactly the stretches of speech <c>process</c> hands the model, instead
/// of whole corpus clips with their silence. The same decoder, VAD settings (<c>EmotionBatch:Vad</c>) and segmenter
/// as <c>process</c>, with every clip mixed to one stream (training clips are single-speaker): for a stereo file that
/// <c>process</c> would split by channel (<c>Decoder:Channels</c> Auto), the cut differs.
/// </summary>
public static class SegmentCommand
{
    /// <summary>Clips segmented concurrently and written together, in input order.</summary>
    private const int WindowClips = 32;

    public const string Header = "id\tutterance_index\tstart_seconds\tend_seconds\tvad_threshold";

    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "TSV file: id<TAB>path of an audio file per line.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "TSV file written: id, utterance_index, start_seconds, end_seconds, vad_threshold per utterance; a clip without speech gets one row with the last four empty.", Required = true };

        var command = new Command("segment", "Export the utterances voice activity detection cuts from audio files (as `process` cuts them), for training.");
        command.Options.Add(input);
        command.Options.Add(output);
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetRequiredValue(input), parse.GetRequiredValue(output), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string input, string output, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["EmotionBatch:Decoder:Channels"] = nameof(ChannelMode.Mix),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        using var host = EmotionBatchHost.CreateBuilder([], overrides, LogLevel.Warning).Build();
        var decoder = host.Services.GetRequiredService<IAudioDecoder>();
        var segmenter = host.Services.GetRequiredService<ChannelSegmenter>();
        var vad = host.Services.GetRequiredService<IOptions<VadOptions>>().Value;

        int clips = 0, utterances = 0, withoutSpeech = 0;
        // Whole or not at all: a run stopped part-way leaves no file that looks complete, and no temporary file.
        await AtomicFile.WriteAsync(output, async (stream, token) =>
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            await writer.WriteLineAsync(Header.AsMemory(), token).ConfigureAwait(false);
            var window = new List<(string Id, string Path)>(WindowClips);
            async Task FlushAsync()
            {
                var found = new IReadOnlyList<Utterance>[window.Count];
                await Parallel.ForEachAsync(Enumerable.Range(0, window.Count),
                    new ParallelOptions { CancellationToken = token, MaxDegreeOfParallelism = Environment.ProcessorCount },
                    async (i, ct) => found[i] = await SegmentAsync(decoder, segmenter, vad, window[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
                for (var i = 0; i < window.Count; i++)
                {
                    clips++;
                    if (found[i].Count == 0)
                    {
                        withoutSpeech++;
                        await writer.WriteLineAsync($"{window[i].Id}\t\t\t\t".AsMemory(), token).ConfigureAwait(false);
                    }
                    foreach (var u in found[i])
                    {
                        utterances++;
                        await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"{window[i].Id}\t{u.Index}\t{u.StartSeconds:0.######}\t{u.EndSeconds:0.######}\t{u.VadThreshold:0.######}").AsMemory(), token).ConfigureAwait(false);
                    }
                }
                window.Clear();
            }

            await foreach (var clip in TsvInput.ReadAsync(input, "path", token).ConfigureAwait(false))
            {
                window.Add(clip);
                if (window.Count == WindowClips)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
            }
            await FlushAsync().ConfigureAwait(false);
            await writer.FlushAsync(token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"segment: {clips} clips, {utterances} utterances, {withoutSpeech} without speech, written to {Path.GetFullPath(output)}");
        return 0;
    }

    private static async Task<IReadOnlyList<Utterance>> SegmentAsync(
        IAudioDecoder decoder, ChannelSegmenter segmenter, VadOptions vad, (string Id, string Path) clip, CancellationToken cancellationToken)
    {
        try
        {
            // As process hears a recording: once more at the fallback threshold when the first pass finds nothing.
            var found = await SegmentPassAsync(decoder, segmenter, clip.Path, VadPass.Primary, cancellationToken).ConfigureAwait(false);
            return found.Count == 0 && vad.HasFallback
                ? await SegmentPassAsync(decoder, segmenter, clip.Path, VadPass.Fallback, cancellationToken).ConfigureAwait(false)
                : found;
        }
        catch (RecordingFailedException e)
        {
            throw new InvalidOperationException($"clip '{clip.Id}' ({clip.Path}): {e.Message}", e);
        }
    }

    private static async Task<IReadOnlyList<Utterance>> SegmentPassAsync(
        IAudioDecoder decoder, ChannelSegmenter segmenter, string path, VadPass pass, CancellationToken cancellationToken)
    {
        await using var audio = await decoder.OpenAsync(Path.GetFullPath(path), cancellationToken).ConfigureAwait(false);
        var found = new List<Utterance>();
        await foreach (var utterance in segmenter.SegmentAsync(audio.ReadAsync(cancellationToken), pass, cancellationToken).ConfigureAwait(false))
        {
            // Only the times are kept; the samples would hold a whole corpus in memory.
            found.Add(utterance with { Samples = [] });
        }
        return found;
    }
}

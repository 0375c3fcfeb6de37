using System.Diagnostics;
using EmotionBatch.Core;
using EmotionBatch.Testing;

namespace EmotionBatch.Transcription.Tests;

/// <summary>
/// tools/make_random_whisper.py writes whisper.cpp files with real tensor names and shapes and random weights: Whisper.net
/// must load them and run, and the packed windows must cost one encoder run per window.
/// </summary>
public sealed class RandomWhisperModelTests : IDisposable
{
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("random-whisper");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("f16")]
    [InlineData("q8_0")]
    public async Task A_generated_tiny_model_loads_and_packed_utterances_cost_one_call(string type)
    {
        var model = await GenerateAsync("tiny", type);
        var jfk = Pcm16Wav.Read(RepoPaths.JfkWav).Samples;
        Utterance[] utterances =
        [
            new(0, 0.0, 3.0, jfk[..(3 * 16_000)]),
            new(1, 3.5, 7.0, jfk[(int)(3.5 * 16_000)..(7 * 16_000)]),
            new(2, 7.5, 11.0, jfk[(int)(7.5 * 16_000)..(11 * 16_000)]),
        ];
        var options = new TranscriptionOptions
        {
            ModelPath = model, Language = "en", Threads = 2, MaxTokensPerSegment = 16, TemperatureFallback = false,
        };

        using (var packed = new WhisperTranscriber(options))
        {
            var transcripts = await packed.TranscribeAsync(utterances, CancellationToken.None);
            Assert.Equal(3, transcripts.Count);
            Assert.Equal(1, packed.Counters.Calls);
            Assert.InRange(packed.Counters.EncoderRuns, 1, options.MaxEncoderRunsPerCall);
            Assert.True(packed.Counters.Tokens > 0, "the decoder ran");
            Assert.InRange(packed.Counters.WindowSeconds, 10.5, 11.0);
        }

        options.PackSeconds = 0;
        using var single = new WhisperTranscriber(options);
        await single.TranscribeAsync(utterances, CancellationToken.None);
        Assert.Equal(3, single.Counters.Calls);
        Assert.InRange(single.Counters.EncoderRuns, 3, 3 * options.MaxEncoderRunsPerCall);
    }

    private async Task<string> GenerateAsync(string size, string type)
    {
        var output = _temp.File($"ggml-{size}-random-{type}.bin");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            Path.Combine(RepoPaths.Root, "tools", "make_random_whisper.py"), "--size", size, "--type", type, "--out", output,
            "--stub", RepoPaths.SharedFile("models", "whisper", "for-tests-ggml-tiny.bin"),
        })
        {
            start.ArgumentList.Add(argument);
        }
        using var python = Process.Start(start)!;
        var errors = python.StandardError.ReadToEndAsync();
        await python.StandardOutput.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, await errors);
        return output;
    }
}

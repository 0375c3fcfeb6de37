using System.Collections.Concurrent;
using EmotionBatch.Core;
using EmotionBatch.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Transcription.Tests;

public sealed class WhisperTranscriberTests
{
    private const string StubSha256 = "dd6b7796204a1cdf7164666423034e6e1a7a3e9f5c22327b4b7974c4584bd82d";

    private static string StubModel => RepoPaths.SharedFile("models", "whisper", "for-tests-ggml-tiny.en.bin");

    [Fact]
    public void Jfk_wav_is_16_khz_mono_pcm16()
    {
        var audio = Pcm16Wav.Read(RepoPaths.JfkWav);
        Assert.Equal(IAudioDecoder.SampleRate, audio.SampleRate);
        Assert.Equal(1, audio.Channels);
        Assert.InRange(audio.Samples.Length / (double)audio.SampleRate, 10.5, 11.5);
        Assert.Contains(audio.Samples, s => Math.Abs(s) > 0.1f);
    }

    [Fact]
    public async Task Stub_model_loads_runs_and_yields_a_null_transcript()
    {
        using var transcriber = new WhisperTranscriber(new TranscriptionOptions
        {
            ModelPath = StubModel,
            Language = "en",
            Threads = 1,
            ExpectedSha256 = StubSha256.ToUpperInvariant(),
        });
        Assert.True(transcriber.IsEnabled);

        var audio = Pcm16Wav.Read(RepoPaths.JfkWav);
        var utterance = new Utterance(0, 0, 3, audio.Samples[..(3 * IAudioDecoder.SampleRate)]);
        Assert.Null(await transcriber.TranscribeAsync(utterance, CancellationToken.None));

        // Pooled processor reused, and a short utterance (padded to Whisper's minimum) also works.
        var shortUtterance = new Utterance(1, 3, 3.5, audio.Samples[..(IAudioDecoder.SampleRate / 2)]);
        Assert.Null(await transcriber.TranscribeAsync(shortUtterance, CancellationToken.None));
    }

    [Fact]
    public void Wrong_sha256_fails_with_a_clear_message()
    {
        var wrong = new string('0', 64);
        var e = Assert.Throws<InvalidOperationException>(() => new WhisperTranscriber(new TranscriptionOptions { ModelPath = StubModel, ExpectedSha256 = wrong }));
        Assert.Contains("EmotionBatch:Transcription:ExpectedSha256", e.Message);
        Assert.Contains(StubSha256, e.Message);
        Assert.Contains(wrong, e.Message);
        Assert.Contains("for-tests-ggml-tiny.en.bin", e.Message);
    }

    [Fact]
    public void Missing_model_file_fails_with_its_path()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N") + ".bin");
        var e = Assert.Throws<InvalidOperationException>(() => new WhisperTranscriber(new TranscriptionOptions { ModelPath = missing }));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public async Task Disabled_without_a_model_returns_null_and_warns_once()
    {
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost([], logs);
        await host.StartAsync();

        var transcriber = host.Services.GetRequiredService<ITranscriber>();
        Assert.False(transcriber.IsEnabled);
        Assert.Null(await transcriber.TranscribeAsync(new Utterance(0, 0, 1, new float[16_000]), CancellationToken.None));
        Assert.Single(logs.Messages, m => m == "no speech-recognition model configured; transcripts will be empty and the text modality masked");
        await host.StopAsync();
    }

    [Fact]
    public async Task Host_wires_the_configured_model()
    {
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(new()
        {
            ["EmotionBatch:Transcription:ModelPath"] = StubModel,
            ["EmotionBatch:Transcription:Language"] = "auto",
            ["EmotionBatch:Transcription:Threads"] = "1",
            ["EmotionBatch:Transcription:ExpectedSha256"] = StubSha256,
        }, logs);
        await host.StartAsync();

        var transcriber = host.Services.GetRequiredService<ITranscriber>();
        Assert.True(transcriber.IsEnabled);
        Assert.Contains(logs.Messages, m => m.StartsWith("Loaded Whisper model", StringComparison.Ordinal));
        var audio = Pcm16Wav.Read(RepoPaths.JfkWav);
        Assert.Null(await transcriber.TranscribeAsync(new Utterance(0, 0, 2, audio.Samples[..32_000]), CancellationToken.None));
        await host.StopAsync();
    }

    [Fact]
    public async Task Host_start_fails_on_a_wrong_sha256()
    {
        using var host = BuildHost(new()
        {
            ["EmotionBatch:Transcription:ModelPath"] = StubModel,
            ["EmotionBatch:Transcription:ExpectedSha256"] = new string('a', 64),
        }, new CapturingLoggerProvider());
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("ExpectedSha256", e.Message);
        Assert.Contains(StubSha256, e.Message);
    }

    [Fact]
    public async Task Host_start_rejects_a_malformed_language()
    {
        using var host = BuildHost(new() { ["EmotionBatch:Transcription:Language"] = "English" }, new CapturingLoggerProvider());
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Language", e.Message);
    }

    private static IHost BuildHost(Dictionary<string, string?> settings, CapturingLoggerProvider logs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.AddEmotionBatchTranscription(builder.Configuration);
        return builder.Build();
    }
}

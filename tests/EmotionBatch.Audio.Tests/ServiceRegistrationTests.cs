using EmotionBatch.Core;
using EmotionBatch.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Audio.Tests;

public sealed class ServiceRegistrationTests
{
    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddEmotionBatchAudio(builder.Configuration);
        return builder.Build();
    }

    [Fact]
    public async Task Options_bind_from_their_sections_and_services_are_singletons()
    {
        using var host = Build(new()
        {
            ["EmotionBatch:Decoder:MaxDurationSeconds"] = "600",
            ["EmotionBatch:Vad:ModelPath"] = RepoPaths.SileroVadOnnx,
            ["EmotionBatch:Vad:Threshold"] = "0.6",
            ["EmotionBatch:Vad:MaxUtteranceSeconds"] = "12",
        });
        await host.StartAsync();

        Assert.Equal(600, host.Services.GetRequiredService<IOptions<DecoderOptions>>().Value.MaxDurationSeconds);
        var vad = host.Services.GetRequiredService<IOptions<VadOptions>>().Value;
        Assert.Equal(0.6f, vad.Threshold);
        Assert.Equal(12, vad.MaxUtteranceSeconds);
        Assert.Equal(300, vad.MinSilenceMs);
        Assert.IsType<FfmpegAudioDecoder>(host.Services.GetRequiredService<IAudioDecoder>());
        Assert.IsType<SileroSpeechSegmenter>(host.Services.GetRequiredService<ISpeechSegmenter>());
        Assert.Same(host.Services.GetRequiredService<ISpeechSegmenter>(), host.Services.GetRequiredService<ISpeechSegmenter>());
        await host.StopAsync();
    }

    [Theory]
    [InlineData("EmotionBatch:Vad:Threshold", "1.5", "Threshold")]
    [InlineData("EmotionBatch:Vad:MaxUtteranceSeconds", "0.3", "MaxUtteranceSeconds")]
    [InlineData("EmotionBatch:Decoder:MaxDurationSeconds", "0", "MaxDurationSeconds")]
    [InlineData("EmotionBatch:Vad:Lanes", "0", "Lanes")]
    [InlineData("EmotionBatch:Vad:LaneSeconds", "300", "Lanes x LaneSeconds")]
    public async Task Invalid_options_stop_the_host_at_start(string key, string value, string named)
    {
        using var host = Build(new() { ["EmotionBatch:Vad:ModelPath"] = RepoPaths.SileroVadOnnx, [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(named, error.Message);
    }
}

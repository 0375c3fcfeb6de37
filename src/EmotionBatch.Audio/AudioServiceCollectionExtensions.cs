using EmotionBatch.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EmotionBatch.Audio;

public static class AudioServiceCollectionExtensions
{
    /// <summary>
    /// Registers the ffmpeg decoder (<c>EmotionBatch:Decoder</c>) and the Silero segmenter (<c>EmotionBatch:Vad</c>) as
    /// singletons, with options validated when the host starts.
    /// </summary>
    public static IServiceCollection AddEmotionBatchAudio(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<DecoderOptions>()
            .Bind(configuration.GetSection(DecoderOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<VadOptions>()
            .Bind(configuration.GetSection(VadOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddSingleton<FfmpegAudioDecoder>();
        services.AddSingleton<IAudioDecoder>(provider => provider.GetRequiredService<FfmpegAudioDecoder>());
        services.AddSingleton<ISpeechSegmenter, SileroSpeechSegmenter>();
        services.AddSingleton<ChannelSegmenter>();
        services.AddHostedService<FfmpegStartupCheck>();
        return services;
    }
}

/// <summary>Fails the host at start when ffmpeg is missing or too old, instead of failing every recording later.</summary>
internal sealed class FfmpegStartupCheck(FfmpegAudioDecoder decoder) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => decoder.VerifyFfmpegAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

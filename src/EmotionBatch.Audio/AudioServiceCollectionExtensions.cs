using EmotionBatch.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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

        services.AddSingleton<IAudioDecoder, FfmpegAudioDecoder>();
        services.AddSingleton<ISpeechSegmenter, SileroSpeechSegmenter>();
        return services;
    }
}

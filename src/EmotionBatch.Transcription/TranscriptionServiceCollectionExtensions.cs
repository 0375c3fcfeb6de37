using EmotionBatch.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Transcription;

public static class TranscriptionServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TranscriptionOptions"/> (section <c>EmotionBatch:Transcription</c>; the model file and its
    /// hash are checked at start) and <see cref="ITranscriber"/> as a singleton created at host start, so a bad model
    /// or the "no model" warning shows before any recording is processed.
    /// </summary>
    public static IServiceCollection AddEmotionBatchTranscription(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TranscriptionOptions>()
            .Bind(configuration.GetSection(TranscriptionOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TranscriptionOptions>, WhisperModelValidator>());
        services.TryAddSingleton(sp => new WhisperTranscriber(
            sp.GetRequiredService<IOptions<TranscriptionOptions>>().Value,
            sp.GetService<ILogger<WhisperTranscriber>>(),
            verifyModel: false));
        services.TryAddSingleton<ITranscriber>(sp => sp.GetRequiredService<WhisperTranscriber>());
        services.AddHostedService<TranscriberStartup>();
        return services;
    }
}

internal sealed class WhisperModelValidator : IValidateOptions<TranscriptionOptions>
{
    public ValidateOptionsResult Validate(string? name, TranscriptionOptions options) =>
        WhisperModelCheck.Problem(options) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}

/// <summary>Creates the transcriber when the host starts instead of on the first utterance.</summary>
internal sealed class TranscriberStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<ITranscriber>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

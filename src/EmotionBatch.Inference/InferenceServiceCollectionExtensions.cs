using EmotionBatch.Core;
using EmotionBatch.Inference.Bundles;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Inference;

public static class InferenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ModelOptions"/> (section <c>EmotionBatch:Model</c>, validated at start, including that the
    /// bundle exists and its manifest is valid) and <see cref="IEmotionModel"/> as a lazily created singleton.
    /// </summary>
    public static IServiceCollection AddEmotionBatchInference(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ModelOptions>()
            .Bind(configuration.GetSection(ModelOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelOptions>, ModelBundleValidator>());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
            return new OnnxEmotionModel(
                ModelBundle.Load(options.BundlePath),
                options,
                sp.GetService<ILogger<OnnxEmotionModel>>());
        });
        services.TryAddSingleton<IEmotionModel>(sp => sp.GetRequiredService<OnnxEmotionModel>());
        return services;
    }
}

/// <summary>Fails start-up when the bundle is missing or its manifest is invalid, before any recording is fetched.</summary>
internal sealed class ModelBundleValidator : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.BundlePath))
        {
            return ValidateOptionsResult.Fail($"{ModelOptions.SectionName}:BundlePath is empty.");
        }
        try
        {
            ModelBundle.Load(options.BundlePath);
            return ValidateOptionsResult.Success;
        }
        catch (ModelBundleException e)
        {
            return ValidateOptionsResult.Fail($"{ModelOptions.SectionName}:BundlePath '{options.BundlePath}': {e.Message}");
        }
    }
}

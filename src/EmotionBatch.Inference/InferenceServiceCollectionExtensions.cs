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
    /// bundle exists and its manifest is valid) and <see cref="IEmotionModel"/> as a lazily created singleton that
    /// batches by length (<see cref="BatchingEmotionModel"/>) over <see cref="OnnxEmotionModel"/>. The bundle's manifest
    /// is read once, by the start-up check, and reused by the model.
    /// </summary>
    public static IServiceCollection AddEmotionBatchInference(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ModelOptions>()
            .Bind(configuration.GetSection(ModelOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelOptions>, ModelBundleValidator>());
        services.TryAddSingleton<LoadedBundles>();
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
            return new OnnxEmotionModel(
                sp.GetRequiredService<LoadedBundles>().Get(options.BundlePath),
                options,
                sp.GetService<ILogger<OnnxEmotionModel>>());
        });
        // Callers hand the model windows of utterances; it batches them by length itself.
        services.TryAddSingleton<IEmotionModel>(sp => new BatchingEmotionModel(sp.GetRequiredService<OnnxEmotionModel>()));
        return services;
    }
}

/// <summary>Fails start-up when the bundle is missing or its manifest is invalid, before any recording is fetched.</summary>
internal sealed class ModelBundleValidator(LoadedBundles bundles) : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.BundlePath))
        {
            return ValidateOptionsResult.Fail($"{ModelOptions.SectionName}:BundlePath is empty.");
        }
        try
        {
            bundles.Get(options.BundlePath);
            return ValidateOptionsResult.Success;
        }
        catch (ModelBundleException e)
        {
            return ValidateOptionsResult.Fail($"{ModelOptions.SectionName}:BundlePath '{options.BundlePath}': {e.Message}");
        }
    }
}

/// <summary>Bundles read by path, each once per process: the start-up check and the model share one load.</summary>
internal sealed class LoadedBundles
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<ModelBundle>> _byPath = new(StringComparer.Ordinal);

    /// <exception cref="ModelBundleException">The bundle is missing or invalid (the same error on every call).</exception>
    public ModelBundle Get(string path) =>
        _byPath.GetOrAdd(Path.GetFullPath(path), full => new Lazy<ModelBundle>(() => ModelBundle.Load(full))).Value;
}

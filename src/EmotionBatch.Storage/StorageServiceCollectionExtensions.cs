using EmotionBatch.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using EmotionBatch.Storage;

namespace Microsoft.Extensions.DependencyInjection;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IRecordingSource"/> (section <c>EmotionBatch:Source</c>) and <see cref="IResultStore"/>
    /// (section <c>EmotionBatch:Output</c>) as singletons, plus <see cref="IRecordingClaims"/> kept beside the output, with options validated at start-up.
    /// </summary>
    /// <param name="maxRecordingBytes">The largest recording the worker accepts: a local file over it is refused by size
    /// unread, so the source tags it by its status instead of hashing it on every pass.</param>
    public static IServiceCollection AddEmotionBatchStorage(this IServiceCollection services, IConfiguration configuration,
        long maxRecordingBytes = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<SourceOptions>()
            .Bind(configuration.GetSection(SourceOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<OutputOptions>()
            .Bind(configuration.GetSection(OutputOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SourceOptions>, SourceOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OutputOptions>, OutputOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton<IRecordingSource>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<SourceOptions>>().Value;
            var loggers = provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
            return options.Kind switch
            {
                StorageKind.Blob => new BlobContainerSource(
                    BlobClientFactory.CreateContainerClient(options), options.Prefix, options.EffectiveExtensions, loggers.CreateLogger<BlobContainerSource>()),
                _ => new LocalFolderSource(options.LocalPath, options.Prefix, options.EffectiveExtensions, loggers.CreateLogger<LocalFolderSource>(),
                    maxRecordingBytes),
            };
        });

        services.TryAddSingleton<IResultStore>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<OutputOptions>>().Value;
            var time = provider.GetRequiredService<TimeProvider>();
            var logger = (provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<ParquetResultStore>();
            return options.Kind switch
            {
                StorageKind.Blob => ParquetResultStore.ForBlobContainer(BlobClientFactory.CreateContainerClient(options), options.Prefix, options, time, logger),
                _ => ParquetResultStore.ForLocalFolder(options.LocalPath, options, time, logger),
            };
        });

        services.TryAddSingleton<IRecordingClaims>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<OutputOptions>>().Value;
            var loggers = provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
            return options.Kind switch
            {
                StorageKind.Blob => new BlobLeaseClaims(
                    BlobClientFactory.CreateContainerClient(options), options.Prefix, options.LeaseDuration,
                    provider.GetRequiredService<TimeProvider>(), loggers.CreateLogger<BlobLeaseClaims>()),
                _ => new FileLockClaims(options.LocalPath),
            };
        });

        return services;
    }
}

using EmotionBatch.Core;
using EmotionBatch.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Storage.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class StorageRegistrationTests(AzuriteFixture azurite)
{
    [Fact]
    public void Local_configuration_builds_a_local_source_and_a_parquet_store()
    {
        using var input = RepoPaths.NewTempFolder("in");
        using var output = RepoPaths.NewTempFolder("out");
        using var provider = Build(new()
        {
            ["EmotionBatch:Source:Kind"] = "Local",
            ["EmotionBatch:Source:LocalPath"] = input.Path,
            ["EmotionBatch:Source:Extensions:0"] = ".wav",
            ["EmotionBatch:Source:PollInterval"] = "00:00:05",
            ["EmotionBatch:Output:LocalPath"] = output.Path,
            ["EmotionBatch:Output:MaxAttempts"] = "5",
        });
        provider.GetRequiredService<IStartupValidator>().Validate();

        var options = provider.GetRequiredService<IOptions<SourceOptions>>().Value;
        Assert.Equal([".wav"], options.EffectiveExtensions);
        Assert.Equal(TimeSpan.FromSeconds(5), options.PollInterval);
        Assert.IsType<LocalFolderSource>(provider.GetRequiredService<IRecordingSource>());
        Assert.Same(provider.GetRequiredService<IResultStore>(), provider.GetRequiredService<IResultStore>());
        Assert.Contains(output.Path, provider.GetRequiredService<IResultStore>().Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_apply_when_nothing_is_configured()
    {
        using var provider = Build([]);
        provider.GetRequiredService<IStartupValidator>().Validate();
        var source = provider.GetRequiredService<IOptions<SourceOptions>>().Value;
        Assert.Equal(StorageKind.Local, source.Kind);
        Assert.Equal("samples", source.LocalPath);
        Assert.Equal(SourceOptions.DefaultExtensions, source.EffectiveExtensions);
        Assert.Equal(TimeSpan.FromSeconds(30), source.PollInterval);
        var output = provider.GetRequiredService<IOptions<OutputOptions>>().Value;
        Assert.Equal("out", output.LocalPath);
        Assert.Equal(3, output.MaxAttempts);
        Assert.Equal(TimeSpan.FromMinutes(1), output.RetryBackoff);
    }

    [Fact]
    public async Task Blob_configuration_with_a_connection_string_reaches_azurite_without_showing_the_secret()
    {
        var container = await AzuriteCollection.NewContainerAsync(azurite, "di");
        await container.GetBlobClient("a.wav").UploadAsync(BinaryData.FromString("x"));
        using var provider = Build(new()
        {
            ["EmotionBatch:Source:Kind"] = "Blob",
            ["EmotionBatch:Source:ConnectionString"] = azurite.ConnectionString,
            ["EmotionBatch:Source:ContainerName"] = container.Name,
            ["EmotionBatch:Source:MaxRetries"] = "1",
            ["EmotionBatch:Output:Kind"] = "Blob",
            ["EmotionBatch:Output:ConnectionString"] = azurite.ConnectionString,
            ["EmotionBatch:Output:ContainerName"] = container.Name,
            ["EmotionBatch:Output:Prefix"] = "results",
        });
        provider.GetRequiredService<IStartupValidator>().Validate();

        var source = Assert.IsType<BlobContainerSource>(provider.GetRequiredService<IRecordingSource>());
        var recording = Assert.Single(await LocalFolderSourceTests.ListAsync(source));
        var store = provider.GetRequiredService<IResultStore>();
        await store.CommitAsync(recording, Samples.Rows(recording, 1), default);
        Assert.Equal(RecordingStatus.Completed, (await store.GetStateAsync(recording, default)).Status);

        foreach (var text in new[] { source.Description, store.Description, provider.GetRequiredService<IOptions<SourceOptions>>().Value.ToString()! })
        {
            Assert.DoesNotContain(AzuriteFixture.AccountKey, text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("EmotionBatch:Source", "ContainerName is required")]
    [InlineData("EmotionBatch:Output", "ContainerName is required")]
    public void Blob_kind_without_a_container_fails_at_start(string section, string expected)
    {
        using var provider = Build(new()
        {
            [$"{section}:Kind"] = "Blob",
            [$"{section}:ConnectionString"] = "UseDevelopmentStorage=true",
        });
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("UseDevelopmentStorage", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Blob_kind_with_both_credentials_and_bad_ranges_fails_at_start()
    {
        using var provider = Build(new()
        {
            ["EmotionBatch:Source:Kind"] = "Blob",
            ["EmotionBatch:Source:ConnectionString"] = "UseDevelopmentStorage=true",
            ["EmotionBatch:Source:ServiceUri"] = "https://account.blob.core.windows.net",
            ["EmotionBatch:Source:ContainerName"] = "Bad_Name",
            ["EmotionBatch:Source:Extensions:0"] = "wav",
            ["EmotionBatch:Output:MaxAttempts"] = "0",
        });
        // Both sections fail, so the validator reports them together.
        var error = Assert.Throws<AggregateException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.All(error.InnerExceptions, inner => Assert.IsType<OptionsValidationException>(inner));
        Assert.Contains("exactly one of ConnectionString or ServiceUri", error.Message, StringComparison.Ordinal);
        Assert.Contains("not a valid container name", error.Message, StringComparison.Ordinal);
        Assert.Contains("must look like '.wav'", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxAttempts", string.Join("\n", error.InnerExceptions.Select(e => e.Message)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../victim")]
    [InlineData("/absolute")]
    [InlineData("a/../../b")]
    [InlineData("a//b")]
    [InlineData("./a")]
    [InlineData("a\\b")]
    public void An_output_prefix_that_could_leave_its_folder_fails_at_start(string prefix)
    {
        using var provider = Build(new() { ["EmotionBatch:Output:Prefix"] = prefix });
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("EmotionBatch:Output:Prefix", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("results")]
    [InlineData("results/")]
    [InlineData("model-2.1/calls/")]
    public void A_relative_output_prefix_is_accepted(string prefix)
    {
        using var provider = Build(new() { ["EmotionBatch:Output:Prefix"] = prefix });
        provider.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public void A_malformed_connection_string_fails_at_start_naming_the_section_not_the_secret()
    {
        using var provider = Build(new()
        {
            ["EmotionBatch:Output:Kind"] = "Blob",
            ["EmotionBatch:Output:ConnectionString"] = "AccountKey-without-equals-sign-s3cret",
            ["EmotionBatch:Output:ContainerName"] = "results",
        });
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("EmotionBatch:Output:ConnectionString is malformed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddEmotionBatchStorage(configuration).BuildServiceProvider();
    }
}

using EmotionBatch.Testing;
using System.Collections.Concurrent;
using EmotionBatch.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Inference.Tests;

[Collection(BundleCollection.Name)]
public sealed class DependencyInjectionTests(TestBundles bundles)
{
    [Fact]
    public async Task Host_start_fails_fast_when_the_bundle_is_missing()
    {
        var missing = Path.Combine(Path.GetTempPath(), "missing-bundle-" + Guid.NewGuid().ToString("N"));
        using var host = BuildHost(new() { ["EmotionBatch:Model:BundlePath"] = missing }, new CapturingLoggerProvider());
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public async Task Options_bind_and_the_model_resolves_with_an_untrained_warning()
    {
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(new()
        {
            ["EmotionBatch:Model:BundlePath"] = bundles.BuiltinText,
            ["EmotionBatch:Model:ExecutionProvider"] = "Cpu",
            ["EmotionBatch:Model:BatchSize"] = "8",
            ["EmotionBatch:Model:IntraOpThreads"] = "1",
            ["EmotionBatch:Model:GraphOptimizationLevel"] = "Basic",
        }, logs);
        await host.StartAsync();

        var options = host.Services.GetRequiredService<IOptions<ModelOptions>>().Value;
        Assert.Equal(ExecutionProviderKind.Cpu, options.ExecutionProvider);
        Assert.Equal(GraphOptimization.Basic, options.GraphOptimizationLevel);
        var model = host.Services.GetRequiredService<IEmotionModel>();
        Assert.Same(model, host.Services.GetRequiredService<IEmotionModel>());
        Assert.Equal(8, model.PreferredBatchSize);
        Assert.False(model.Bundle.Trained);
        Assert.Single(logs.Messages, m => m == "bundle test-untrained-builtin-text is untrained: its outputs are not emotions");
        Assert.Single(logs.Messages, m => m.StartsWith("ONNX Runtime execution provider: CPU", StringComparison.Ordinal));
        await host.StopAsync();
    }

    [Fact]
    public async Task Invalid_batch_size_fails_validation()
    {
        using var host = BuildHost(new()
        {
            ["EmotionBatch:Model:BundlePath"] = bundles.BuiltinText,
            ["EmotionBatch:Model:BatchSize"] = "0",
        }, new CapturingLoggerProvider());
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("BatchSize", e.Message);
    }

    private static IHost BuildHost(Dictionary<string, string?> settings, CapturingLoggerProvider logs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.AddEmotionBatchInference(builder.Configuration);
        return builder.Build();
    }
}

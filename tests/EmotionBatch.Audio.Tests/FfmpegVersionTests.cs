using EmotionBatch.Core;
using EmotionBatch.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EmotionBatch.Audio.Tests;

/// <summary>The host refuses to start on an ffmpeg it cannot read, rather than failing every recording later.</summary>
public sealed class FfmpegVersionTests : IDisposable
{
    // The head of `ffmpeg -version` of a 2018 static build (FFmpeg 4.1 libraries).
    private const string Ffmpeg41Version = """
        ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2018 the FFmpeg developers
        built with gcc 6.3.0 (Debian 6.3.0-18+deb9u1) 20170516
        libavutil      56. 24.101 / 56. 24.101
        libavcodec     58. 42.100 / 58. 42.100
        libavformat    58. 24.100 / 58. 24.100
        """;

    private readonly TempFolder _temp = RepoPaths.NewTempFolder("ffmpeg-version");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task The_installed_ffmpeg_is_accepted_and_named_in_the_log_at_start()
    {
        using var logs = new CapturingLoggerProvider();
        using var host = Build(folder: null, logs);
        await host.StartAsync();
        Assert.IsType<FfmpegAudioDecoder>(host.Services.GetRequiredService<IAudioDecoder>());
        Assert.Contains(logs.Messages, m => m.Contains("Decoding with", StringComparison.Ordinal) && m.Contains("ffmpeg version", StringComparison.Ordinal));
        await host.StopAsync();
    }

    [Fact]
    public async Task An_ffmpeg_4_build_stops_the_host_at_start_naming_its_version()
    {
        using var host = Build(FakeFfmpeg(Ffmpeg41Version));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("too old", error.Message);
        Assert.Contains("libavformat 58.24", error.Message);
        Assert.Contains("FFmpeg 5.0 or newer", error.Message);
    }

    [Fact]
    public async Task A_program_that_is_not_ffmpeg_stops_the_host_at_start()
    {
        using var host = Build(FakeFfmpeg("usage: something else entirely"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("did not report a libavformat version", error.Message);
    }

    [Fact]
    public async Task A_folder_without_ffmpeg_stops_the_host_at_start_with_the_setting_to_fix()
    {
        using var host = Build(Directory.CreateDirectory(_temp.File("empty")).FullName);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("EmotionBatch:Decoder:FfmpegFolder", error.Message);
    }

    [Fact]
    public void Supported_builds_are_judged_by_libavformat_not_by_the_release_name()
    {
        Assert.Null(FfmpegVersion.Problem("ffmpeg", "ffmpeg version N-112345-gabcdef-static\nlibavutil      59.  8.100\nlibavformat    61.  1.100 / 61.  1.100\n"));
        Assert.Null(FfmpegVersion.Problem("ffmpeg", "ffmpeg version 5.1.9-0+deb12u1\nlibavformat    59. 27.100 / 59. 27.100\n"));
        Assert.NotNull(FfmpegVersion.Problem("ffmpeg", Ffmpeg41Version));
    }

    /// <summary>A folder whose "ffmpeg" prints <paramref name="versionOutput"/> and exits.</summary>
    private string FakeFfmpeg(string versionOutput)
    {
        var folder = Directory.CreateDirectory(_temp.File(Guid.NewGuid().ToString("N"))).FullName;
        var text = _temp.File(Guid.NewGuid().ToString("N") + ".txt");
        File.WriteAllText(text, versionOutput + "\n");
        var script = Path.Combine(folder, "ffmpeg");
        File.WriteAllText(script, $"#!/bin/sh\ncat '{text}'\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return folder;
    }

    private static IHost Build(string? folder, ILoggerProvider? logs = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EmotionBatch:Vad:ModelPath"] = RepoPaths.SileroVadOnnx,
            ["EmotionBatch:Decoder:FfmpegFolder"] = folder ?? "",
        });
        builder.Services.AddEmotionBatchAudio(builder.Configuration);
        return builder.Build();
    }
}

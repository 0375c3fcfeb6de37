using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EmotionBatch.Core;
using EmotionBatch.Testing;

namespace EmotionBatch.Audio.Tests;

/// <summary>
/// Inputs that try to make ffmpeg read something other than the file itself. A FIFO stands in for the referenced local
/// file: opening it for reading is what unblocks our writer, so a read by ffmpeg cannot go unnoticed. A loopback
/// listener stands in for the network.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly TempFolder _folder = RepoPaths.NewTempFolder("hostile");
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _fifo;
    private readonly Task _fifoOpened;

    public HostileInputTests()
    {
        _listener.Start();
        _fifo = _folder.File("secret.wav");
        Process.Start("mkfifo", [_fifo]).WaitForExit();
        // Blocks until some process opens the FIFO for reading.
        _fifoOpened = Task.Factory.StartNew(
            () => { using var writer = new FileStream(_fifo, FileMode.Open, FileAccess.Write); },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private string HlsPlaylist() => $"""
        #EXTM3U
        #EXT-X-VERSION:3
        #EXT-X-TARGETDURATION:10
        #EXTINF:10.0,
        file:{_fifo}
        #EXTINF:10.0,
        http://127.0.0.1:{Port}/segment.ts
        #EXTINF:10.0,
        http://127.0.0.1:1/segment.ts
        #EXT-X-ENDLIST

        """;

    // Relative to the list, so even ffmpeg's concat "safe" mode would open it.
    private static string ConcatList() => """
        ffconcat version 1.0
        file 'secret.wav'

        """;

    private async Task AssertNothingElseWasOpenedAsync()
    {
        await Task.Delay(200);
        Assert.False(_fifoOpened.IsCompleted, "ffmpeg opened the file named in the playlist");
        Assert.False(_listener.Pending(), "ffmpeg connected to the URL named in the playlist");
    }

    private static async Task<RecordingFailedException> RefusedByBothAsync(string path)
    {
        // A decoder that followed the playlist would block on the FIFO; the timeout turns that into a failure.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var decoder = Signal.Decoder();
        var probe = await Assert.ThrowsAsync<RecordingFailedException>(() => decoder.ProbeAsync(path, timeout.Token));
        var decode = await Assert.ThrowsAsync<RecordingFailedException>(() => Signal.DecodeAllAsync(path, cancellationToken: timeout.Token));
        Assert.Equal(probe.Reason, decode.Reason);
        Assert.False(probe.Retryable);
        return probe;
    }

    [Fact]
    public async Task Control_without_the_whitelists_ffprobe_opens_the_file_a_playlist_names()
    {
        // Shows the FIFO trap works: plain ffprobe opens the local segment. (URLs in a playlist read from a local file
        // are already refused by ffmpeg's default for the file protocol; the listener checks that this stays so.)
        var playlist = _folder.File("control.m3u8");
        await File.WriteAllTextAsync(playlist, $"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:{_fifo}\n#EXT-X-ENDLIST\n");
        using var ffprobe = Process.Start(new ProcessStartInfo("ffprobe", ["-v", "quiet", playlist]) { RedirectStandardError = true })!;
        try
        {
            await _fifoOpened.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            ffprobe.Kill();
        }
    }

    [Fact]
    public async Task Hls_playlist_with_a_byte_order_mark_is_named_as_a_playlist()
    {
        var playlist = _folder.File("bom.wav");
        await File.WriteAllBytesAsync(playlist, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(HlsPlaylist())]);

        var error = await RefusedByBothAsync(playlist);

        Assert.Equal("unsupported container 'hls' (playlists are refused)", error.Reason);
        await AssertNothingElseWasOpenedAsync();
    }

    [Fact]
    public async Task Hls_playlist_is_refused_without_opening_what_it_names()
    {
        var playlist = _folder.File("recording.m3u8");
        await File.WriteAllTextAsync(playlist, HlsPlaylist());

        var error = await RefusedByBothAsync(playlist);

        Assert.Equal("probe", error.Stage);
        Assert.Equal("unsupported container 'hls' (playlists are refused)", error.Reason);
        await AssertNothingElseWasOpenedAsync();
    }

    [Fact]
    public async Task Hls_playlist_named_wav_is_refused_too()
    {
        var playlist = _folder.File("innocent.wav");
        await File.WriteAllTextAsync(playlist, HlsPlaylist());

        var error = await RefusedByBothAsync(playlist);

        Assert.Equal("unsupported container 'hls' (playlists are refused)", error.Reason);
        await AssertNothingElseWasOpenedAsync();
    }

    [Fact]
    public async Task Ffconcat_list_is_refused_without_opening_what_it_names()
    {
        var list = _folder.File("recording.wav");
        await File.WriteAllTextAsync(list, ConcatList());

        var error = await RefusedByBothAsync(list);

        Assert.Equal("unsupported container 'concat' (playlists are refused)", error.Reason);
        await AssertNothingElseWasOpenedAsync();
    }

    [Theory]
    [InlineData("hls")]
    [InlineData("concat")]
    public async Task Ffmpegs_own_whitelist_refuses_playlists_and_names_them(string kind)
    {
        // Skips the header sniffing, so this is ffmpeg's -format_whitelist/-protocol_whitelist alone.
        var path = _folder.File("direct.txt");
        await File.WriteAllTextAsync(path, kind == "hls" ? HlsPlaylist() : ConcatList());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var error = await Assert.ThrowsAsync<RecordingFailedException>(
            () => Signal.Decoder().OpenWithoutSniffingAsync(path, timeout.Token));

        Assert.Equal($"unsupported container '{kind}' (playlists are refused)", error.Reason);
        await AssertNothingElseWasOpenedAsync();
    }

    [Fact]
    public async Task Random_bytes_are_not_a_readable_audio_file()
    {
        var path = _folder.File("noise.wav");
        var bytes = new byte[64 * 1024];
        new Random(17).NextBytes(bytes);
        await File.WriteAllBytesAsync(path, bytes);

        var error = await RefusedByBothAsync(path);

        Assert.Equal("probe", error.Stage);
        Assert.StartsWith("not a readable audio file: ffmpeg: ", error.Reason);
        Assert.Contains("Invalid data", error.Reason);
    }

    [Fact]
    public async Task An_empty_file_fails_clearly()
    {
        var path = _folder.File("empty.wav");
        await File.WriteAllBytesAsync(path, []);

        var error = await RefusedByBothAsync(path);
        Assert.Equal("empty file (0 bytes)", error.Reason);
    }

    [Fact]
    public async Task A_missing_file_fails_clearly()
    {
        var path = _folder.File("missing.wav");
        var error = await RefusedByBothAsync(path);
        Assert.Equal($"file not found: {path}", error.Reason);
    }

    [Fact]
    public async Task A_truncated_wav_header_fails_clearly()
    {
        var whole = await File.ReadAllBytesAsync(RepoPaths.JfkWav);
        var path = _folder.File("truncated.wav");
        await File.WriteAllBytesAsync(path, whole[..30]);

        var error = await RefusedByBothAsync(path);

        Assert.Equal("probe", error.Stage);
        Assert.StartsWith("not a readable audio file: ffmpeg: ", error.Reason);
    }

    [Fact]
    public async Task A_wav_cut_after_its_header_has_no_audio_to_decode()
    {
        var whole = await File.ReadAllBytesAsync(RepoPaths.JfkWav);
        var path = _folder.File("header-only.wav");
        await File.WriteAllBytesAsync(path, whole[..44]);

        var error = await Assert.ThrowsAsync<RecordingFailedException>(() => Signal.DecodeAllAsync(path));
        Assert.False(error.Retryable);
        Assert.Contains(error.Stage, new[] { "probe", "decode" });
    }

    public void Dispose()
    {
        _listener.Stop();
        if (!_fifoOpened.IsCompleted)
        {
            // Release the blocked writer by opening the read end ourselves.
            using var reader = new FileStream(_fifo, FileMode.Open, FileAccess.Read);
        }
        _fifoOpened.Wait(TimeSpan.FromSeconds(5));
        _folder.Dispose();
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Storage.Blobs;
using EmotionBatch.Testing;

namespace EmotionBatch.Reliability.Tests;

/// <summary>
/// A container full of malformed and hostile inputs next to two good recordings, run by a worker process: every bad
/// input ends in the errors dataset with a reason, nothing reaches the network or files outside the work folder,
/// the worker finishes its pass, and the good recordings complete.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class HostileInputCorpusTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private const long MaxFileSizeBytes = 3_000_000;
    private const int MaxDurationSeconds = 120;

    private readonly AzuriteFixture _azurite;
    private readonly SpeechBatchFixture _batch;
    private readonly ITestOutputHelper _log;
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("hostile");

    public HostileInputCorpusTests(AzuriteFixture azurite, SpeechBatchFixture batch, ITestOutputHelper log)
    {
        _azurite = azurite;
        _batch = batch;
        _log = log;
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Every_hostile_input_lands_in_the_errors_dataset_and_the_rest_of_the_batch_completes()
    {
        // A loopback server that counts connections: playlists point at it, and nothing may ever connect.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var connections = 0;
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref connections);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        });

        // A real recording outside the work folder: if a playlist could make ffmpeg read it, rows would appear.
        var canary = _temp.File("canary.wav");
        File.Copy(RepoPaths.JfkWav, canary);

        var corpus = await BuildCorpusAsync(port, canary);
        Assert.True(corpus.Count >= 30, $"only {corpus.Count} hostile inputs");

        var source = new BlobContainerClient(_azurite.ConnectionString, AzuriteFixture.NewContainerName("hostile"));
        await source.CreateAsync();
        var uploaded = new List<string>();
        foreach (var (name, content) in corpus)
        {
            try
            {
                await source.UploadBlobAsync(name, new BinaryData(content));
                uploaded.Add(name);
            }
            catch (Azure.RequestFailedException ex)
            {
                _log.WriteLine($"the service refused the name {Escape(name)}: {ex.Status}");
            }
        }
        Assert.True(uploaded.Count >= 30, $"only {uploaded.Count} hostile inputs were accepted by the service");
        var good = new[] { "good/call.wav", "ünïcødé/-i 录音 🎤 call.mp3" };
        await source.UploadBlobAsync(good[0], File.OpenRead(Path.Combine(_batch.Folder, _batch.Ids[0])));
        await source.UploadBlobAsync(good[1], File.OpenRead(Path.Combine(_batch.Folder, _batch.Ids[1])));

        // The names as the service lists them (it may normalise some), to match the datasets against.
        var listed = new List<string>();
        await foreach (var blob in source.GetBlobsAsync())
        {
            listed.Add(blob.Name);
        }
        var bad = listed.Except(good).ToList();
        Assert.Equal(uploaded.Count, bad.Count);

        var output = _temp.File("out");
        var work = _temp.File("work");
        var settings = WorkerProcess.BaseSettings(work);
        settings["EmotionBatch:Source:Kind"] = "Blob";
        settings["EmotionBatch:Source:ConnectionString"] = _azurite.ConnectionString;
        settings["EmotionBatch:Source:ContainerName"] = source.Name;
        // Playlists and text get through the listing too, so the decoder's defences are what stops them.
        var extensions = new[] { ".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mka", ".amr", ".m3u8", ".m3u", ".pls", ".mpd", ".sdp", ".txt" };
        for (var i = 0; i < extensions.Length; i++)
        {
            settings[$"EmotionBatch:Source:Extensions:{i}"] = extensions[i];
        }
        settings["EmotionBatch:Output:Kind"] = "Local";
        settings["EmotionBatch:Output:LocalPath"] = output;
        settings["EmotionBatch:Output:MaxAttempts"] = "1";
        settings["EmotionBatch:Worker:MaxFileSizeBytes"] = MaxFileSizeBytes.ToString(CultureInfo.InvariantCulture);
        settings["EmotionBatch:Decoder:MaxDurationSeconds"] = MaxDurationSeconds.ToString(CultureInfo.InvariantCulture);

        using var worker = WorkerProcess.Start(settings, "run", "--once");
        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromMinutes(4)), "the pass did not finish:\n" + worker.Output);
        // Failed recordings make a scheduled run exit 3; the silent one is an outcome, not a failure.
        Assert.True(worker.ExitCode == 3, worker.Output);
        var pass = System.Text.RegularExpressions.Regex.Match(worker.Output,
            @"(\d+) listed, (\d+) completed, (\d+) failed, \d+ skipped, (\d+) without speech");
        Assert.True(pass.Success, worker.Output);
        Assert.Equal(listed.Count, int.Parse(pass.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Equal(2, int.Parse(pass.Groups[2].Value, CultureInfo.InvariantCulture));
        // Silence and pure tones decode but hold no speech: outcomes, not failures; every bad input is one or the other.
        var noSpeech = int.Parse(pass.Groups[4].Value, CultureInfo.InvariantCulture);
        Assert.InRange(noSpeech, 2, bad.Count - 1);
        Assert.Equal(bad.Count, int.Parse(pass.Groups[3].Value, CultureInfo.InvariantCulture) + noSpeech);

        var errors = DuckDbParquet.ReadRows(Path.Combine(output, "errors", "**", "*.parquet"), orderBy: "recording_id");
        foreach (var row in errors)
        {
            _log.WriteLine($"{Escape((string)row["recording_id"]!)} | {row["stage"]} | {row["reason"]}");
        }
        Assert.Equal(bad.Order(StringComparer.Ordinal), errors.Select(r => (string)r["recording_id"]!).Order(StringComparer.Ordinal));
        Assert.All(errors, row =>
        {
            var reason = (string)row["reason"]!;
            Assert.False(string.IsNullOrWhiteSpace(reason));
            Assert.DoesNotContain("   at ", reason, StringComparison.Ordinal);
            Assert.NotEqual("unexpected", (string)row["stage"]!);
            Assert.False((bool)row["will_retry"]!);
        });
        string ReasonOf(string id) => (string)errors.Single(r => (string)r["recording_id"]! == id)["reason"]!;
        Assert.Contains("empty", ReasonOf("empty.wav"), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("limit", ReasonOf("oversized.wav"), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("limit", ReasonOf("too-long.wav"), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("speech", ReasonOf("silence.wav"), StringComparison.OrdinalIgnoreCase);
        foreach (var playlist in bad.Where(id => id.StartsWith("playlist/", StringComparison.Ordinal)))
        {
            Assert.Matches("(?i)playlist|unsupported container|not a readable audio file", ReasonOf(playlist));
        }

        var rows = DuckDbParquet.ReadRows(Path.Combine(output, "utterances", "**", "*.parquet"));
        Assert.Equal(good.Order(StringComparer.Ordinal), rows.Select(r => (string)r["recording_id"]!).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(0, Volatile.Read(ref connections));
        // Fetched files are named from the recording key and removed after use; nothing escaped the work folder.
        Assert.Empty(Directory.Exists(work) ? Directory.EnumerateFileSystemEntries(work, "*", SearchOption.AllDirectories) : []);
        Assert.Equal(["canary.wav", "out", "work"], Directory.EnumerateFileSystemEntries(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        _log.WriteLine($"HOSTILE inputs={bad.Count} in-errors-dataset={errors.Count} good-completed={good.Length} loopback-connections={connections}");
    }

    private async Task<List<(string Name, byte[] Content)>> BuildCorpusAsync(int port, string canary)
    {
        var random = new Random(7);
        byte[] Random(int count)
        {
            var bytes = new byte[count];
            random.NextBytes(bytes);
            return bytes;
        }
        byte[] Text(string text) => Encoding.UTF8.GetBytes(text);
        async Task<byte[]> Generated(string name, params string[] ffmpegArguments)
        {
            var path = _temp.File("gen-" + name);
            await TestAudio.RunFfmpegAsync([.. ffmpegArguments, path]);
            var bytes = await File.ReadAllBytesAsync(path);
            File.Delete(path);
            return bytes;
        }

        var validWav = await File.ReadAllBytesAsync(RepoPaths.JfkWav);
        var loopback = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var u8Silence = new byte[8000];
        Array.Fill(u8Silence, (byte)128);

        return
        [
            // Empty and truncated.
            ("empty.wav", []),
            ("header-only.wav", Wav.Header(16_000, 1, 16, 0)),
            ("truncated-12-bytes.wav", validWav[..12]),
            ("truncated-30-bytes.wav", validWav[..30]),
            ("truncated-mp3-frame.mp3", (await Generated("t.mp3", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libmp3lame")).AsSpan(0, 300).ToArray()),
            // Random bytes behind every audio extension.
            ("random/noise.wav", Random(20_000)),
            ("random/noise.mp3", Random(20_000)),
            ("random/noise.flac", Random(20_000)),
            ("random/noise.ogg", Random(20_000)),
            ("random/noise.opus", Random(20_000)),
            ("random/noise.m4a", Random(20_000)),
            ("random/noise.aac", Random(20_000)),
            ("random/noise.webm", Random(20_000)),
            ("random/noise.mka", Random(20_000)),
            ("random/noise.amr", Random(20_000)),
            // AMR frames without the file header: a raw stream nothing can check before decoding, refused.
            ("raw-amr-frames.amr", Enumerable.Range(0, 100).SelectMany(_ => new byte[] { 0x3C }.Concat(new byte[31])).ToArray()),
            ("png-image.wav", [.. "\x89PNG\r\n\x1a\n"u8, .. Random(2_000)]),
            ("text.mp3", Text("this is not an mp3, it is a text file with an audio extension")),
            // Sizes and durations.
            ("huge-declared-size.wav", Wav.File(Wav.Header(8_000, 1, 8, 0xFFFF_FFF0, riffSize: 0xFFFF_FFF8), u8Silence)),
            ("oversized.wav", Wav.File(Wav.Header(8_000, 1, 8, (uint)MaxFileSizeBytes + 500_000), Enumerable.Repeat((byte)128, (int)MaxFileSizeBytes + 500_000).ToArray())),
            ("too-long.wav", Wav.File(Wav.Header(8_000, 1, 8, 8_000 * (MaxDurationSeconds + 10)), Enumerable.Repeat((byte)128, 8_000 * (MaxDurationSeconds + 10)).ToArray())),
            // No speech.
            ("silence.wav", Wav.File(Wav.Header(8_000, 1, 8, (uint)u8Silence.Length), u8Silence)),
            ("silence.mp3", await Generated("s.mp3", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "2", "-c:a", "libmp3lame")),
            ("tone.flac", await Generated("t.flac", "-f", "lavfi", "-i", "sine=frequency=1000:duration=2", "-c:a", "flac")),
            ("id3-tag-only.mp3", [(byte)'I', (byte)'D', (byte)'3', 3, 0, 0, 0, 0, 0, 10, .. new byte[10]]),
            // Extreme sample rates and channel counts, as headers declare them.
            ("rate-zero.wav", Wav.File(Wav.Header(0, 1, 16, 4_000), new byte[4_000])),
            ("rate-1hz.wav", Wav.File(Wav.Header(1, 1, 16, 16), new byte[16])),
            ("rate-4ghz.wav", Wav.File(Wav.Header(unchecked((int)0xFFFF_FFF0), 1, 16, 4_000), new byte[4_000])),
            ("rate-768khz-tone.wav", await Generated("r.wav", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=768000:duration=0.5", "-c:a", "pcm_s16le")),
            ("channels-zero.wav", Wav.File(Wav.Header(16_000, 0, 16, 4_000), new byte[4_000])),
            ("channels-65535.wav", Wav.File(Wav.Header(16_000, unchecked((short)0xFFFF), 16, 4_000), new byte[4_000])),
            ("channels-64-silence.wav", Wav.File(Wav.Header(8_000, 64, 16, 64 * 2 * 4_000), new byte[64 * 2 * 4_000])),
            ("bits-7.wav", Wav.File(Wav.Header(16_000, 1, 7, 4_000), Random(4_000))),
            ("format-tag-unknown.wav", Wav.File(Wav.Header(16_000, 1, 16, 4_000, formatTag: 0x7777), Random(4_000))),
            // Playlists and other referencing formats, pointing at a local file and a loopback server.
            ("playlist/hls-local.m3u8", Text($"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{canary}\n#EXTINF:10,\n/etc/passwd\n#EXT-X-ENDLIST\n")),
            ("playlist/hls-loopback.wav", Text($"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{loopback}/segment0.ts\n#EXT-X-ENDLIST\n")),
            ("playlist/hls-loopback.mp3", Text($"\uFEFF#EXTM3U\n#EXTINF:10,\n{loopback}/a.mp3\n")),
            ("playlist/concat-local.flac", Text($"ffconcat version 1.0\nfile '{canary}'\nfile '/etc/passwd'\n")),
            ("playlist/concat-loopback.ogg", Text($"ffconcat version 1.0\nfile '{loopback}/a.wav'\n")),
            ("playlist/pls-loopback.pls", Text($"[playlist]\nFile1={loopback}/stream\nNumberOfEntries=1\n")),
            ("playlist/m3u-bare.m3u", Text($"{canary}\n{loopback}/b.mp3\n")),
            ("playlist/dash-loopback.mka", Text($"<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\"><BaseURL>{loopback}/</BaseURL></MPD>\n")),
            ("playlist/smil-loopback.m4a", Text($"<smil><body><audio src=\"{loopback}/c.wav\"/></body></smil>\n")),
            ("playlist/sdp-loopback.sdp", Text($"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio {port.ToString(CultureInfo.InvariantCulture)} RTP/AVP 0\n")),
            // Hostile names (with content that is not audio either).
            ("../../escape.wav", Random(5_000)),
            ("names/..\\..\\backslash-escape.wav", Random(5_000)),
            ("names/%2e%2e%2fencoded-escape.mp3", Random(5_000)),
            ("names/-i.wav", Random(5_000)),
            ("names/file:etc-passwd.wav", Random(5_000)),
            ("names/\u202Eevil\u202C.mp3", Random(5_000)),
            ("names/ünïcødé 日本語 🎤.flac", Random(5_000)),
            ("names/" + new string('a', 600) + ".wav", Random(5_000)),
        ];
    }

    private static string Escape(string value) =>
        new(value.Select(c => char.IsControl(c) || c is '\u202E' or '\u202C' ? '?' : c).ToArray());
}

using EmotionBatch.Core;
using EmotionBatch.Testing;

namespace EmotionBatch.Storage.Tests;

public sealed class LocalFolderSourceTests
{
    [Fact]
    public async Task Lists_recursively_with_relative_ids_filters_extensions_and_hashes_content()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        Write(folder, "a.wav", "alpha");
        Write(folder, "nested/deeper/B.MP3", "bravo");
        Write(folder, "nested/notes.txt", "not audio");
        Write(folder, "nested/.hidden.wav", "dot file");
        Write(folder, "other/c.flac", "charlie");

        var source = new LocalFolderSource(folder.Path);
        var listed = await ListAsync(source);

        Assert.Equal(["a.wav", "nested/deeper/B.MP3", "other/c.flac"], listed.Select(r => r.Id));
        var a = listed[0];
        Assert.Equal(await Hashing.Sha256FileAsync(folder.File("a.wav"), default), a.ETag);
        Assert.Equal(5, a.SizeBytes);
        Assert.True(a.Uri.IsFile);
        Assert.Equal(Path.GetFullPath(folder.File("a.wav")), a.Uri.LocalPath);

        var prefixed = await ListAsync(new LocalFolderSource(folder.Path, prefix: "nested/"));
        Assert.Equal(["nested/deeper/B.MP3"], prefixed.Select(r => r.Id));

        var onlyFlac = await ListAsync(new LocalFolderSource(folder.Path, extensions: [".FLAC"]));
        Assert.Equal(["other/c.flac"], onlyFlac.Select(r => r.Id));
    }

    [Fact]
    public async Task Changed_content_gets_a_new_etag_and_key_and_unchanged_content_keeps_it()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        var path = Write(folder, "call.wav", "version one");
        var source = new LocalFolderSource(folder.Path);

        var first = Assert.Single(await ListAsync(source));
        var again = Assert.Single(await ListAsync(source));
        Assert.Equal(first.ETag, again.ETag);
        Assert.Equal(first.Key, again.Key);

        File.WriteAllText(path, "version two");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        var changed = Assert.Single(await ListAsync(source));

        Assert.NotEqual(first.ETag, changed.ETag);
        Assert.Equal(first.Key.IdHash, changed.Key.IdHash);
        Assert.NotEqual(first.Key.VersionHash, changed.Key.VersionHash);
    }

    [Theory]
    [InlineData("x/call.wav")]
    [InlineData("line\nbreak\u001b[31m.wav")]
    public async Task Fetch_hands_out_the_file_and_dispose_keeps_it(string name)
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        using var work = RepoPaths.NewTempFolder("work");
        var path = Write(folder, name, "content");
        var source = new LocalFolderSource(folder.Path);
        var recording = Assert.Single(await ListAsync(source));

        await using (var local = await source.FetchAsync(recording, work.Path, default))
        {
            if (name.Any(char.IsControl))
            {
                // The decoder gets a link named by hex and an extension, never the control characters.
                Assert.DoesNotContain(local.Path, char.IsControl);
                Assert.StartsWith(Path.GetFullPath(work.Path), local.Path, StringComparison.Ordinal);
                Assert.Equal("content", await File.ReadAllTextAsync(local.Path));
            }
            else
            {
                Assert.Equal(Path.GetFullPath(path), local.Path);
            }
        }

        Assert.True(File.Exists(path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(work.Path));
    }

    [Fact]
    public async Task Fetch_refuses_an_id_that_escapes_the_folder()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        var source = new LocalFolderSource(folder.Path);
        var hostile = new RecordingRef("../outside.wav", new Uri("file:///outside.wav"), "x", 1, DateTimeOffset.UnixEpoch);

        var error = await Assert.ThrowsAsync<RecordingFailedException>(() => source.FetchAsync(hostile, folder.Path, default));
        Assert.Equal("fetch", error.Stage);
    }

    [Fact]
    public async Task A_missing_folder_lists_nothing()
    {
        var source = new LocalFolderSource(Path.Combine(Path.GetTempPath(), "emotionbatch-tests", "missing-" + Guid.NewGuid().ToString("N")));
        Assert.Empty(await ListAsync(source));
    }

    [Fact]
    public async Task Folder_links_are_not_followed_so_a_self_loop_or_an_escape_lists_only_what_is_under_the_root()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        using var outside = RepoPaths.NewTempFolder("outside");
        Write(folder, "real/call.wav", "inside");
        Write(outside, "secret.wav", "outside the root");
        Directory.CreateSymbolicLink(folder.File("loop"), ".");
        Directory.CreateSymbolicLink(folder.File("real/loop2"), "..");
        Directory.CreateSymbolicLink(folder.File("escape"), outside.Path);

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var listed = new List<RecordingRef>();
        await foreach (var recording in new LocalFolderSource(folder.Path).ListAsync(cancel.Token))
        {
            listed.Add(recording);
        }

        // Control: the real file is listed once; nothing through a link, nothing from outside.
        Assert.Equal(["real/call.wav"], listed.Select(r => r.Id));
    }

    [Fact]
    public async Task A_fifo_is_skipped_instead_of_blocking_the_pass_and_a_file_link_is_not_read()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        using var outside = RepoPaths.NewTempFolder("outside");
        Write(folder, "a.wav", "control");
        Write(outside, "target.wav", "outside");
        File.CreateSymbolicLink(folder.File("link.wav"), outside.File("target.wav"));
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", folder.File("b.wav")))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var listing = ListAsync(new LocalFolderSource(folder.Path));
        var finished = await Task.WhenAny(listing, Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.Same(listing, finished);
        Assert.Equal(["a.wav"], (await listing).Select(r => r.Id));
    }

    [Fact]
    public async Task A_name_that_is_not_utf8_is_listed_and_fails_at_fetch_with_a_reason_naming_it()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        using var work = RepoPaths.NewTempFolder("work");
        Write(folder, "control.wav", "control");
        // M\xfcller.wav in Latin-1: the byte 0xFC alone is not UTF-8. Created through the shell, which passes bytes.
        using (var touch = System.Diagnostics.Process.Start("bash", ["-c", "cd \"$1\" && touch \"$(printf 'M\\374ller.wav')\"", "_", folder.Path]))
        {
            await touch.WaitForExitAsync();
            Assert.Equal(0, touch.ExitCode);
        }

        var source = new LocalFolderSource(folder.Path);
        var listed = await ListAsync(source);

        Assert.Equal(2, listed.Count);
        var odd = Assert.Single(listed, r => r.Id != "control.wav");
        Assert.Contains('\uFFFD', odd.Id);
        Assert.Equal(-1, odd.SizeBytes); // unknown, not 0: an empty-file refusal would hide the real reason
        var error = await Assert.ThrowsAsync<RecordingFailedException>(() => source.FetchAsync(odd, work.Path, default));
        Assert.Equal("fetch", error.Stage);
        Assert.Contains("not valid UTF-8", error.Message);
        Assert.False(error.Retryable);
        await using var control = await source.FetchAsync(listed.Single(r => r.Id == "control.wav"), work.Path, default);
        Assert.True(File.Exists(control.Path));
    }

    [Fact]
    public async Task A_file_that_vanishes_before_fetch_is_retryable_so_it_is_processed_when_it_returns()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        using var work = RepoPaths.NewTempFolder("work");
        var path = Write(folder, "call.wav", "content");
        var source = new LocalFolderSource(folder.Path);
        var recording = Assert.Single(await ListAsync(source));
        File.Move(path, path + ".away");

        var error = await Assert.ThrowsAsync<RecordingFailedException>(() => source.FetchAsync(recording, work.Path, default));

        Assert.True(error.Retryable);
        File.Move(path + ".away", path);
        await using var back = await source.FetchAsync(recording, work.Path, default);
        Assert.Equal(Path.GetFullPath(path), back.Path);
    }

    [Fact]
    public async Task A_same_size_rewrite_that_restores_the_old_modified_time_gets_a_new_version()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        var path = Write(folder, "call.wav", "version one");
        var source = new LocalFolderSource(folder.Path);
        var first = Assert.Single(await ListAsync(source));
        var stamp = File.GetLastWriteTimeUtc(path);

        // Control: untouched, the cached hash is reused and the version is unchanged.
        Assert.Equal(first.ETag, Assert.Single(await ListAsync(source)).ETag);

        File.WriteAllText(path, "version two");
        File.SetLastWriteTimeUtc(path, stamp);
        var rewritten = Assert.Single(await ListAsync(source));

        Assert.Equal(first.SizeBytes, rewritten.SizeBytes);
        Assert.NotEqual(first.ETag, rewritten.ETag);
    }

    [Fact]
    public async Task A_modified_time_past_year_9999_does_not_stop_the_listing()
    {
        // tmpfs stores any 64-bit time; ext4 stops at year 2446, which would not test the clamp.
        var shm = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var folder = Directory.CreateDirectory(Path.Combine(shm, "emotionbatch-future-" + Guid.NewGuid().ToString("N")));
        using var cleanup = new DeleteOnDispose(folder.FullName);
        File.WriteAllText(Path.Combine(folder.FullName, "a.wav"), "control");
        var future = Path.Combine(folder.FullName, "b.wav");
        File.WriteAllText(future, "far future");
        using (var touch = System.Diagnostics.Process.Start("touch", ["-d", "@400000000000", future]))
        {
            await touch.WaitForExitAsync();
            Assert.Equal(0, touch.ExitCode);
        }

        var listed = await ListAsync(new LocalFolderSource(folder.FullName));

        Assert.Equal(["a.wav", "b.wav"], listed.Select(r => r.Id));
        var stored = long.Parse(await StatModifiedSecondsAsync(future), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Math.Min(stored, DateTimeOffset.MaxValue.ToUnixTimeSeconds()), listed[1].LastModified.ToUnixTimeSeconds());
    }

    [Theory]
    [InlineData("100%41.wav", "100%2541.wav")]
    [InlineData("a#b?.wav", "a%23b%3F.wav")]
    [InlineData("plain.wav", "plain.wav")]
    public async Task The_recording_uri_names_the_file_exactly(string name, string escaped)
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        var path = Write(folder, name, "content");

        var listed = Assert.Single(await ListAsync(new LocalFolderSource(folder.Path)));

        Assert.Equal(name, listed.Id);
        Assert.EndsWith("/" + escaped, listed.Uri.ToString(), StringComparison.Ordinal);
        Assert.Equal(Path.GetFullPath(path), listed.Uri.LocalPath);
    }

    [Fact]
    public async Task A_file_as_the_root_lists_that_file_alone()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        var path = Write(folder, "one/call.wav", "content");
        Write(folder, "one/other.wav", "not asked for");

        var listed = await ListAsync(new LocalFolderSource(path));

        var only = Assert.Single(listed);
        Assert.Equal("call.wav", only.Id);
        Assert.Equal(await Hashing.Sha256FileAsync(path, default), only.ETag);
    }

    [Fact]
    public async Task A_link_named_as_the_root_lists_the_file_it_points_to()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        var target = Write(folder, "archive/call.wav", "content");
        var link = folder.File("latest.wav");
        File.CreateSymbolicLink(link, target);

        var only = Assert.Single(await ListAsync(new LocalFolderSource(link)));

        Assert.Equal("call.wav", only.Id);
        Assert.Equal(await Hashing.Sha256FileAsync(target, default), only.ETag);
    }

    [Fact]
    public async Task A_file_over_the_size_limit_is_tagged_by_its_status_without_reading_it()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        var small = Write(folder, "small.wav", "tiny");
        var large = Write(folder, "large.wav", new string('x', 4096));

        var listed = await ListAsync(new LocalFolderSource(folder.Path, maxHashBytes: 1024));

        Assert.Equal(await Hashing.Sha256FileAsync(small, default), listed.Single(r => r.Id == "small.wav").ETag);
        Assert.StartsWith("unhashed-4096-", listed.Single(r => r.Id == "large.wav").ETag, StringComparison.Ordinal);
        Assert.True(File.Exists(large));
    }

    private static async Task<string> StatModifiedSecondsAsync(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%Y", path]) { RedirectStandardOutput = true })!;
        var output = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return output.Trim();
    }

    private sealed class DeleteOnDispose(string path) : IDisposable
    {
        public void Dispose()
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
    }

    internal static async Task<List<RecordingRef>> ListAsync(IRecordingSource source)
    {
        var list = new List<RecordingRef>();
        await foreach (var recording in source.ListAsync(default))
        {
            list.Add(recording);
        }
        return list;
    }

    private static string Write(TempFolder folder, string relative, string content)
    {
        var path = folder.File(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }
}

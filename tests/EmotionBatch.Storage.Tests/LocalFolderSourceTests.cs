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

    [Fact]
    public async Task Fetch_returns_the_file_in_place_and_dispose_keeps_it()
    {
        using var folder = RepoPaths.NewTempFolder("local-source");
        using var work = RepoPaths.NewTempFolder("work");
        var path = Write(folder, "x/call.wav", "content");
        var source = new LocalFolderSource(folder.Path);
        var recording = Assert.Single(await ListAsync(source));

        await using (var local = await source.FetchAsync(recording, work.Path, default))
        {
            Assert.Equal(Path.GetFullPath(path), local.Path);
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

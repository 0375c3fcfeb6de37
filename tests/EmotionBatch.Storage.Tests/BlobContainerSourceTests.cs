using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using EmotionBatch.Core;
using EmotionBatch.Testing;

namespace EmotionBatch.Storage.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class BlobContainerSourceTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Lists_with_prefix_and_case_insensitive_extension_filter()
    {
        var container = await AzuriteCollection.NewContainerAsync(azurite, "source");
        await UploadAsync(container, "calls/a.wav", "alpha");
        await UploadAsync(container, "calls/sub/B.OPUS", "bravo");
        await UploadAsync(container, "calls/readme.txt", "not audio");
        await UploadAsync(container, "other/c.wav", "charlie");

        var all = await LocalFolderSourceTests.ListAsync(new BlobContainerSource(container));
        Assert.Equal(["calls/a.wav", "calls/sub/B.OPUS", "other/c.wav"], all.Select(r => r.Id));

        var source = new BlobContainerSource(container, prefix: "calls/");
        var listed = await LocalFolderSourceTests.ListAsync(source);
        Assert.Equal(["calls/a.wav", "calls/sub/B.OPUS"], listed.Select(r => r.Id));
        var first = listed[0];
        Assert.Equal(5, first.SizeBytes);
        Assert.False(string.IsNullOrEmpty(first.ETag));
        Assert.Equal($"{azurite.BlobEndpoint}/{container.Name}/calls/a.wav", first.Uri.ToString());
        Assert.DoesNotContain(AzuriteFixture.AccountKey, source.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_downloads_into_the_work_folder_and_dispose_removes_the_copy()
    {
        var container = await AzuriteCollection.NewContainerAsync(azurite, "source");
        await UploadAsync(container, "calls/a.wav", "alpha content");
        var source = new BlobContainerSource(container);
        var recording = Assert.Single(await LocalFolderSourceTests.ListAsync(source));
        using var work = RepoPaths.NewTempFolder("work");

        string path;
        await using (var local = await source.FetchAsync(recording, work.Path, default))
        {
            path = local.Path;
            Assert.Equal(Path.GetFullPath(work.Path), Path.GetDirectoryName(path));
            Assert.Equal($"{recording.Key}.wav", Path.GetFileName(path));
            Assert.Equal("alpha content", await File.ReadAllTextAsync(path));
            Assert.Single(Directory.GetFiles(work.Path));
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Changed_blob_gets_a_new_etag_and_fetching_the_old_version_fails_retryably()
    {
        var container = await AzuriteCollection.NewContainerAsync(azurite, "source");
        await UploadAsync(container, "a.wav", "one");
        var source = new BlobContainerSource(container);
        var before = Assert.Single(await LocalFolderSourceTests.ListAsync(source));

        await UploadAsync(container, "a.wav", "two");
        var after = Assert.Single(await LocalFolderSourceTests.ListAsync(source));
        Assert.NotEqual(before.ETag, after.ETag);
        Assert.NotEqual(before.Key.VersionHash, after.Key.VersionHash);

        using var work = RepoPaths.NewTempFolder("work");
        var error = await Assert.ThrowsAsync<RecordingFailedException>(() => source.FetchAsync(before, work.Path, default));
        Assert.True(error.Retryable);
        Assert.Empty(Directory.GetFiles(work.Path));
    }

    [Theory]
    [InlineData("ünïcødé/звонок 😀.wav")]
    [InlineData("%2e%2e%2f%2e%2e%2fencoded.wav")]
    [InlineData("..%5c..%5cx.wav")]
    [InlineData("a/...../b.wav")]
    [InlineData("name with spaces & ; quotes'\".wav")]
    public async Task Odd_blob_names_the_service_accepts_land_inside_the_work_folder(string blobName)
    {
        var container = await AzuriteCollection.NewContainerAsync(azurite, "hostile");
        await UploadAsync(container, blobName, "payload");
        var source = new BlobContainerSource(container);
        var recording = Assert.Single(await LocalFolderSourceTests.ListAsync(source));
        using var parent = RepoPaths.NewTempFolder("hostile-parent");
        var work = Path.Combine(parent.Path, "work");

        await using var local = await source.FetchAsync(recording, work, default);

        var full = Path.GetFullPath(local.Path);
        Assert.Equal(Path.GetFullPath(work), Path.GetDirectoryName(full));
        Assert.Matches("^[0-9a-f]{32}-[0-9a-f]{32}\\.wav$", Path.GetFileName(full));
        Assert.Equal("payload", await File.ReadAllTextAsync(full));
        // Nothing was written beside or above the work folder.
        Assert.Equal([Path.GetFullPath(work)], Directory.GetFileSystemEntries(parent.Path).Select(Path.GetFullPath));
        Assert.Single(Directory.GetFiles(work));
    }

    /// <summary>
    /// Dot segments and backslashes cannot be uploaded (the service refuses or normalises them), but a listing could still
    /// hand such an id to FetchAsync: it must either fail as a recording failure or land inside the work folder.
    /// </summary>
    [Theory]
    [InlineData("../../evil.wav")]
    [InlineData("..\\x.wav")]
    [InlineData("a/..\\..\\..\\b.wav")]
    [InlineData("sub/../evil.wav")]
    [InlineData("/etc/../evil.wav")]
    public async Task Traversal_ids_never_write_outside_the_work_folder(string id)
    {
        var container = await AzuriteCollection.NewContainerAsync(azurite, "traversal");
        await UploadAsync(container, "evil.wav", "payload");
        var source = new BlobContainerSource(container);
        var listed = Assert.Single(await LocalFolderSourceTests.ListAsync(source));
        var hostile = listed with { Id = id, ETag = string.Empty };
        using var parent = RepoPaths.NewTempFolder("hostile-parent");
        var work = Path.Combine(parent.Path, "work");

        try
        {
            await using var local = await source.FetchAsync(hostile, work, default);
            Assert.Equal(Path.GetFullPath(work), Path.GetDirectoryName(Path.GetFullPath(local.Path)));
            Assert.Equal($"{hostile.Key}.wav", Path.GetFileName(local.Path));
        }
        catch (RecordingFailedException error)
        {
            Assert.Equal("fetch", error.Stage);
        }

        Assert.Equal([Path.GetFullPath(work)], Directory.GetFileSystemEntries(parent.Path).Select(Path.GetFullPath));
        Assert.Empty(Directory.GetFiles(work));
    }

    [Fact]
    public async Task A_sas_uri_never_reaches_the_recording_uri_the_description_or_the_parquet_rows()
    {
        var container = await AzuriteCollection.NewContainerAsync(azurite, "sas");
        await UploadAsync(container, "calls/a.wav", "alpha");
        var sasUri = container.GenerateSasUri(BlobContainerSasPermissions.Read | BlobContainerSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1));
        Assert.Contains("sig=", sasUri.Query, StringComparison.Ordinal);
        var source = new BlobContainerSource(new BlobContainerClient(sasUri));

        var recording = Assert.Single(await LocalFolderSourceTests.ListAsync(source));
        Assert.Empty(recording.Uri.Query);
        Assert.DoesNotContain("sig=", source.Description, StringComparison.Ordinal);
        using (var work = RepoPaths.NewTempFolder("work"))
        {
            await using var local = await source.FetchAsync(recording, work.Path, default);
            Assert.Equal("alpha", await File.ReadAllTextAsync(local.Path));
        }

        using var output = RepoPaths.NewTempFolder("out");
        var store = ParquetResultStore.ForLocalFolder(output.Path);
        // Even a caller that copies the SAS URI into its rows or an error message does not leak it.
        var rows = Samples.Rows(recording, 2).Select(r => r with { RecordingUri = sasUri + "/calls/a.wav" }).ToList();
        await store.CommitAsync(recording, rows, default);
        await store.RecordFailureAsync(recording, Samples.Failure(recording, reason: $"GET {sasUri} failed; {azurite.ConnectionString}") with { RecordingUri = sasUri.ToString() }, default);

        foreach (var file in Directory.EnumerateFiles(output.Path, "*", SearchOption.AllDirectories))
        {
            var text = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file));
            Assert.DoesNotContain("sig=", text.Replace("sig=REDACTED", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.DoesNotContain(AzuriteFixture.AccountKey, text, StringComparison.Ordinal);
        }
        var uris = DuckDbParquet.ReadRows(Path.Combine(output.Path, "utterances", "**", "*.parquet")).Select(r => (string)r["recording_uri"]!);
        Assert.All(uris, uri => Assert.DoesNotContain("?", uri, StringComparison.Ordinal));
    }

    private static async Task UploadAsync(BlobContainerClient container, string name, string content) =>
        await container.GetBlobClient(name).UploadAsync(BinaryData.FromString(content), overwrite: true);
}

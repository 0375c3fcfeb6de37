using EmotionBatch.Testing;

namespace EmotionBatch.Storage.Tests;

[Trait("Category", "Fast")]
public sealed class LocalObjectStoreTests
{
    [Fact]
    public async Task A_put_in_progress_is_never_visible_as_a_parquet_file()
    {
        using var root = RepoPaths.NewTempFolder("objects");
        var store = new LocalObjectStore(root.Path);
        var content = new GatedStream(new byte[64 * 1024]);
        const string name = "utterances/date=2026-11-03/a-b.parquet";

        var put = store.PutAtomicAsync(name, content, default);
        await content.FirstReadDone.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var folder = Path.Combine(root.Path, "utterances", "date=2026-11-03");
        var during = Directory.GetFiles(folder);
        var temp = Assert.Single(during);
        Assert.StartsWith(".tmp-", Path.GetFileName(temp), StringComparison.Ordinal);
        Assert.DoesNotContain(".parquet", Path.GetFileName(temp), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(root.Path, "*.parquet", SearchOption.AllDirectories));
        Assert.False(await store.ExistsAsync(name, default));
        Assert.Empty(await ToListAsync(store.ListAsync("utterances/", default)));

        content.Release();
        await put.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(64 * 1024, new FileInfo(Path.Combine(folder, "a-b.parquet")).Length);
        Assert.Equal([name], await ToListAsync(store.ListAsync("utterances/", default)));
        Assert.Single(Directory.GetFiles(folder));
    }

    [Fact]
    public async Task Overwrite_replaces_whole_content_and_delete_of_a_missing_object_succeeds()
    {
        using var root = RepoPaths.NewTempFolder("objects");
        var store = new LocalObjectStore(root.Path);
        await store.PutAtomicAsync("a/b.json", "first version, longer"u8.ToArray(), default);
        await store.PutAtomicAsync("a/b.json", "second"u8.ToArray(), default);

        Assert.Equal("second"u8.ToArray(), await store.TryGetAsync("a/b.json", default));
        Assert.Null(await store.TryGetAsync("a/missing.json", default));
        Assert.Null(await store.TryGetAsync("nofolder/missing.json", default));
        await store.DeleteAsync("a/b.json", default);
        await store.DeleteAsync("a/b.json", default);
        await store.DeleteAsync("nofolder/missing.json", default);
        Assert.False(await store.ExistsAsync("a/b.json", default));
    }

    [Theory]
    [InlineData("../escape.json")]
    [InlineData("a/../../escape.json")]
    [InlineData("/absolute.json")]
    [InlineData("a\\b.json")]
    public async Task Names_that_could_leave_the_root_are_rejected(string name)
    {
        using var root = RepoPaths.NewTempFolder("objects");
        var store = new LocalObjectStore(root.Path);
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAtomicAsync(name, new byte[1], default));
    }

    private static async Task<List<string>> ToListAsync(IAsyncEnumerable<string> items)
    {
        var list = new List<string>();
        await foreach (var item in items)
        {
            list.Add(item);
        }
        return list;
    }

    /// <summary>Hands out its first chunk, then holds the rest until released: a slow upload frozen mid-way.</summary>
    private sealed class GatedStream(byte[] data) : MemoryStream(data)
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource FirstReadDone { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position > 0)
            {
                await _gate.Task.WaitAsync(cancellationToken);
            }
            var read = await base.ReadAsync(buffer[..Math.Min(buffer.Length, 1024)], cancellationToken);
            FirstReadDone.TrySetResult();
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}

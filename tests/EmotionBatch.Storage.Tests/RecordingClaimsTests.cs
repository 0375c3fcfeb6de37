using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using EmotionBatch.Core;
using EmotionBatch.Testing;

namespace EmotionBatch.Storage.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class RecordingClaimsTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TempFolder _temp = RepoPaths.NewTempFolder("claims");

    public void Dispose() => _temp.Dispose();

    private static RecordingRef Recording(string id) =>
        new(id, new Uri($"file:///{id}"), "etag-1", 10, DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task A_blob_lease_claim_is_exclusive_kept_alive_and_free_again_once_released()
    {
        // An output container nothing has written to yet: the first claim creates it.
        var container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(AzuriteFixture.NewContainerName("claims"));
        var first = new BlobLeaseClaims(container, "out", TimeSpan.FromSeconds(15));
        var second = new BlobLeaseClaims(container, "out", TimeSpan.FromSeconds(15));

        var claim = await first.TryClaimAsync(Recording("a.wav"), default);
        Assert.NotNull(claim);
        Assert.Null(await second.TryClaimAsync(Recording("a.wav"), default));
        var other = await second.TryClaimAsync(Recording("b.wav"), default);
        Assert.NotNull(other);
        await other!.DisposeAsync();

        // Past the 15 s lease: renewal has kept it.
        await Task.Delay(TimeSpan.FromSeconds(17));
        Assert.False(claim!.Lost.IsCancellationRequested);
        Assert.Null(await second.TryClaimAsync(Recording("a.wav"), default));

        await claim.DisposeAsync();
        var next = await second.TryClaimAsync(Recording("a.wav"), default);
        Assert.NotNull(next);
        await next!.DisposeAsync();
        Assert.True(await container.GetBlobClient($"out/_state/claims/{Recording("a.wav").Key.IdHash}").ExistsAsync());
    }

    [Fact]
    public async Task A_claim_whose_lease_is_broken_reports_it_lost()
    {
        var container = await AzuriteCollection.NewContainerAsync(azurite, "claims");
        var claims = new BlobLeaseClaims(container, null, TimeSpan.FromSeconds(15));
        var claim = await claims.TryClaimAsync(Recording("a.wav"), default);
        Assert.NotNull(claim);

        await container.GetBlobClient($"_state/claims/{Recording("a.wav").Key.IdHash}").GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
        var lost = new TaskCompletionSource();
        using var registration = claim!.Lost.Register(() => lost.TrySetResult());
        Assert.Same(lost.Task, await Task.WhenAny(lost.Task, Task.Delay(TimeSpan.FromSeconds(20))));
        await claim.DisposeAsync();
    }

    [Fact]
    public async Task A_file_lock_claim_is_exclusive_until_released()
    {
        var claims = new FileLockClaims(_temp.Path);
        var claim = await claims.TryClaimAsync(Recording("a.wav"), default);
        Assert.NotNull(claim);
        Assert.Null(await new FileLockClaims(_temp.Path).TryClaimAsync(Recording("a.wav"), default));
        await claim!.DisposeAsync();
        var again = await claims.TryClaimAsync(Recording("a.wav"), default);
        Assert.NotNull(again);
        await again!.DisposeAsync();
    }
}

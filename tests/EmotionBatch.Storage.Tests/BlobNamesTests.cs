using EmotionBatch.Core;

namespace EmotionBatch.Storage.Tests;

[Trait("Category", "Fast")]
public sealed class BlobNamesTests
{
    [Theory]
    [InlineData("calls/a.WAV", ".wav")]
    [InlineData("calls/a.opus", ".opus")]
    [InlineData("x.w/../noextension", ".bin")]
    [InlineData("a.w~v", ".bin")]
    [InlineData("a.waaaaaaaaaaaaaav", ".bin")]
    [InlineData("a.wav\u0000", ".bin")]
    [InlineData("a.", ".bin")]
    public void Local_file_names_are_the_key_plus_a_vetted_extension(string id, string extension)
    {
        var recording = new RecordingRef(id, new Uri("http://127.0.0.1/x"), "etag", 0, default);
        Assert.Equal(recording.Key + extension, BlobNames.LocalFileName(recording));
    }

    [Fact]
    public void Uris_lose_their_query_and_user_info()
    {
        var uri = new Uri("https://user:pw@account.blob.core.windows.net/c/a.wav?sv=2024&sig=secret");
        Assert.Equal("https://account.blob.core.windows.net/c/a.wav", BlobNames.WithoutQuery(uri)!.ToString());
    }
}

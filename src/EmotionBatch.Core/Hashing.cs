using System.Security.Cryptography;
using System.Text;

namespace EmotionBatch.Core;

public static class Hashing
{
    /// <summary>First 16 bytes of SHA-256 as lower-case hex: collision-safe for archive sizes and short enough for names.</summary>
    public static string ShortHex(string value)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(value), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    public static async Task<string> Sha256FileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }
}

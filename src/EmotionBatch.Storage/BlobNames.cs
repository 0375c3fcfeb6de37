using System.Text.RegularExpressions;
using EmotionBatch.Core;

namespace EmotionBatch.Storage;

/// <summary>Turns untrusted names and URIs into safe ones.</summary>
internal static partial class BlobNames
{
    /// <summary>Drops the query (a SAS token) and any user info so the URI can be logged and stored.</summary>
    public static Uri? WithoutQuery(Uri? uri)
    {
        if (uri is null || !uri.IsAbsoluteUri)
        {
            return uri;
        }
        var builder = new UriBuilder(uri) { Query = string.Empty, Fragment = string.Empty, UserName = string.Empty, Password = string.Empty };
        return builder.Uri;
    }

    public static bool IsSafeExtension(string extension) => SafeExtensionPattern().IsMatch(extension);

    /// <summary>
    /// A file name for a fetched recording made only from the key's hex and a vetted extension, so a hostile blob
    /// name ("../../x.wav", control or unicode characters) can never choose where the file lands.
    /// </summary>
    public static string LocalFileName(RecordingRef recording)
    {
        var id = recording.Id;
        var dot = id.LastIndexOf('.');
        var extension = dot >= 0 && dot > id.LastIndexOfAny(['/', '\\']) ? id[dot..].ToLowerInvariant() : string.Empty;
        return recording.Key + (IsSafeExtension(extension) ? extension : ".bin");
    }

    /// <summary>Where a download to <paramref name="target"/> is written first: never an audio extension, so nothing picks up a half-downloaded file.</summary>
    public static string PartialFileName(string target) => $"{target}.{Guid.NewGuid():N}.partial";

    /// <summary>Whether a work-folder file name is one of <see cref="LocalFileName"/> or <see cref="PartialFileName"/>.</summary>
    public static bool IsWorkFileName(string fileName) => WorkFileNamePattern().IsMatch(fileName);

    [GeneratedRegex("^\\.[a-zA-Z0-9]{1,8}$")]
    private static partial Regex SafeExtensionPattern();

    // The recording key's two hex halves, a vetted lower-case extension, an optional download suffix.
    [GeneratedRegex("^[0-9a-f]{32}-[0-9a-f]{32}\\.[a-z0-9]{1,8}(\\.[0-9a-f]{32}\\.partial)?$")]
    private static partial Regex WorkFileNamePattern();
}

using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EmotionBatch.Storage;

/// <summary>Checks that the chosen <see cref="StorageKind"/> has what it needs, so a bad deployment fails at start-up.</summary>
internal static partial class StorageOptionsValidation
{
    public static IEnumerable<string> ValidateBlob(BlobEndpointOptions options, string section)
    {
        var hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (hasConnectionString == (options.ServiceUri is not null))
        {
            yield return $"{section}: set exactly one of ConnectionString or ServiceUri for Kind=Blob.";
        }
        if (options.ServiceUri is { IsAbsoluteUri: false } || options.ServiceUri is { Scheme: not ("https" or "http") })
        {
            yield return $"{section}:ServiceUri must be an absolute http(s) URI.";
        }
        if (string.IsNullOrWhiteSpace(options.ContainerName))
        {
            yield return $"{section}:ContainerName is required for Kind=Blob.";
        }
        else if (!ContainerNamePattern().IsMatch(options.ContainerName))
        {
            yield return $"{section}:ContainerName '{options.ContainerName}' is not a valid container name (3-63 lower-case letters, digits and single hyphens).";
        }
        if (hasConnectionString && ConnectionStringProblem(options.ConnectionString!) is { } problem)
        {
            // The message names the setting and the parser's complaint, never the string itself (it holds a key).
            yield return $"{section}:ConnectionString is malformed: {problem}";
        }
        if (options.NetworkTimeout <= TimeSpan.Zero || options.RetryDelay < TimeSpan.Zero || options.MaxRetryDelay < options.RetryDelay)
        {
            yield return $"{section}: NetworkTimeout must be positive and MaxRetryDelay at least RetryDelay.";
        }
    }

    private static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            _ = new Azure.Storage.Blobs.BlobServiceClient(connectionString);
            return null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            return ex.Message.Replace(connectionString, "(hidden)", StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A prefix is a relative folder path inside the container or folder: '/'-separated segments, none empty, '.' or
    /// '..', no backslash or control character. Anything else could write outside it (EmotionBatch:Output:Prefix
    /// '../victim' would name another container).
    /// </summary>
    public static string? PrefixProblem(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            return null;
        }
        if (prefix.Any(c => char.IsControl(c) || c == '\\'))
        {
            return "must not contain control characters or backslashes";
        }
        var segments = prefix.EndsWith('/') ? prefix[..^1].Split('/') : prefix.Split('/');
        return segments.Any(segment => segment is "" or "." or "..")
            ? "must be a relative path of named folders ('calls/2026/'): no leading '/', empty, '.' or '..' segments"
            : null;
    }

    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex ContainerNamePattern();
}

internal sealed class SourceOptionsValidator : IValidateOptions<SourceOptions>
{
    public ValidateOptionsResult Validate(string? name, SourceOptions options)
    {
        var failures = new List<string>();
        if (options.Kind == StorageKind.Blob)
        {
            failures.AddRange(StorageOptionsValidation.ValidateBlob(options, SourceOptions.SectionName));
        }
        else if (string.IsNullOrWhiteSpace(options.LocalPath))
        {
            failures.Add($"{SourceOptions.SectionName}:LocalPath is required for Kind=Local.");
        }
        foreach (var extension in options.EffectiveExtensions)
        {
            if (!BlobNames.IsSafeExtension(extension))
            {
                failures.Add($"{SourceOptions.SectionName}:Extensions entry '{extension}' must look like '.wav'.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class OutputOptionsValidator : IValidateOptions<OutputOptions>
{
    public ValidateOptionsResult Validate(string? name, OutputOptions options)
    {
        var failures = new List<string>();
        if (options.Kind == StorageKind.Blob)
        {
            failures.AddRange(StorageOptionsValidation.ValidateBlob(options, OutputOptions.SectionName));
        }
        else if (string.IsNullOrWhiteSpace(options.LocalPath))
        {
            failures.Add($"{OutputOptions.SectionName}:LocalPath is required for Kind=Local.");
        }
        if (StorageOptionsValidation.PrefixProblem(options.Prefix) is { } prefixProblem)
        {
            failures.Add($"{OutputOptions.SectionName}:Prefix '{options.Prefix}' {prefixProblem}.");
        }
        if (options.MaxRetryBackoff < options.RetryBackoff)
        {
            failures.Add($"{OutputOptions.SectionName}:MaxRetryBackoff must be at least RetryBackoff.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

using System.Runtime.CompilerServices;
using System.Text;

namespace EmotionBatch.Inference;

/// <summary>The input lists of the feature-cache commands: <c>id&lt;TAB&gt;value</c> per line, ids unique, an optional header line.</summary>
public static class TsvInput
{
    /// <param name="valueColumn">The second column's header name ("text", "path"): a first line <c>id&lt;TAB&gt;valueColumn</c> is skipped.</param>
    public static async IAsyncEnumerable<(string Id, string Value)> ReadAsync(
        string path, string valueColumn, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lineNumber = 0;
        using var reader = new StreamReader(path, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab <= 0)
            {
                throw new InvalidDataException($"{path}, line {lineNumber}: expected 'id<TAB>{valueColumn}'.");
            }
            var id = line[..tab];
            var value = line[(tab + 1)..];
            if (lineNumber == 1 && id.Equals("id", StringComparison.OrdinalIgnoreCase) && value.Equals(valueColumn, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (!seen.Add(id))
            {
                throw new InvalidDataException($"{path}, line {lineNumber}: duplicate id '{id}'.");
            }
            yield return (id, value);
        }
    }
}

using DuckDB.NET.Data;

namespace EmotionBatch.Reports.Tests;

/// <summary>Runs SQL through DuckDB, the engine analysts query the output with, and returns plain rows.</summary>
internal static class Duck
{
    public sealed record Result(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyDictionary<string, object?>> Rows);

    /// <param name="searchPath">Folder that relative paths in the SQL (such as 'out/utterances/**') resolve against.</param>
    public static Result Query(string sql, string? searchPath = null)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        if (searchPath is not null)
        {
            using var set = connection.CreateCommand();
            set.CommandText = $"SET file_search_path = '{searchPath.Replace("'", "''")}'";
            set.ExecuteNonQuery();
        }
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[columns[i]] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return new Result(columns, rows);
    }

    public static double Double(object? value) => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
}

using System.Data.Common;
using DuckDB.NET.Data;

namespace EmotionBatch.Testing;

/// <summary>
/// Reads Parquet files with DuckDB, a reader independent of the Parquet.Net writer, so tests check what an analyst
/// would actually see. Globs follow DuckDB's read_parquet ('**' recurses); hive partitions become columns.
/// </summary>
public static class DuckDbParquet
{
    /// <summary>All rows of the matching files, as column name -> value; empty when no file matches.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> ReadRows(string glob, string? orderBy = null, bool hivePartitioning = true)
    {
        var sql = $"SELECT * FROM {Source(glob, hivePartitioning)}" + (orderBy is null ? string.Empty : $" ORDER BY {orderBy}");
        return Query(sql, emptyWhenNoFiles: true);
    }

    public static long Count(string glob)
    {
        var rows = Query($"SELECT count(*) AS n FROM {Source(glob, hivePartitioning: false)}", emptyWhenNoFiles: true);
        return rows.Count == 0 ? 0 : Convert.ToInt64(rows[0]["n"], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Column name and DuckDB type of the matching files, in file order.</summary>
    public static IReadOnlyList<(string Name, string Type)> Describe(string glob, bool hivePartitioning = false) =>
        Query($"DESCRIBE SELECT * FROM {Source(glob, hivePartitioning)}")
            .Select(row => ((string)row["column_name"]!, (string)row["column_type"]!))
            .ToList();

    /// <summary>Any SQL; use <see cref="Source"/> to refer to files.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> Query(string sql, bool emptyWhenNoFiles = false)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        try
        {
            using var reader = command.ExecuteReader();
            return ReadAll(reader);
        }
        catch (DuckDBException ex) when (emptyWhenNoFiles && ex.Message.Contains("No files found", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }
    }

    public static string Source(string glob, bool hivePartitioning = true) =>
        $"read_parquet('{glob.Replace("'", "''", StringComparison.Ordinal)}', hive_partitioning = {(hivePartitioning ? "true" : "false")})";

    private static List<IReadOnlyDictionary<string, object?>> ReadAll(DbDataReader reader)
    {
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return rows;
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmotionBatch.Storage;

/// <summary>Written before a version's parquet file, so that its file can be found and removed even if the commit never finished.</summary>
internal sealed record OutputRecord(string RecordingId, string ETag, string Output);

/// <summary>The done record: its existence means the version is committed.</summary>
internal sealed record DoneRecord(string RecordingId, string ETag, string RecordingUri, string? Output, int Rows, DateTimeOffset CommittedAt);

internal sealed record FailedRecord(string RecordingId, string ETag, int Attempts, bool Permanent, DateTimeOffset LastFailedAt, DateTimeOffset? RetryAfter, string Stage, string Reason);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(OutputRecord))]
[JsonSerializable(typeof(DoneRecord))]
[JsonSerializable(typeof(FailedRecord))]
internal sealed partial class LedgerJson : JsonSerializerContext
{
    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, typeof(T), Default);

    public static T? Deserialize<T>(byte[]? bytes) where T : class
    {
        if (bytes is null)
        {
            return null;
        }
        try
        {
            return (T?)JsonSerializer.Deserialize(bytes, typeof(T), Default);
        }
        catch (JsonException)
        {
            // A record we cannot read is treated as absent: the recording is processed again, which is idempotent.
            return null;
        }
    }
}

namespace EmotionBatch.Storage;

/// <summary>
/// A flat namespace of small immutable objects with '/'-separated names, the common ground of a local folder and a
/// blob container. Every put is atomic: a reader sees the old object, the new one, or none, never a partial one.
/// </summary>
internal interface IObjectStore
{
    /// <summary>Where the objects live, without secrets.</summary>
    string Description { get; }

    Task PutAtomicAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    Task PutAtomicAsync(string name, Stream content, CancellationToken cancellationToken);

    /// <summary>The object's content, or null when it does not exist.</summary>
    Task<byte[]?> TryGetAsync(string name, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(string name, CancellationToken cancellationToken);

    /// <summary>Names of committed objects starting with <paramref name="prefix"/>, recursively.</summary>
    IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Removes the object; succeeds when it is already gone.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);
}

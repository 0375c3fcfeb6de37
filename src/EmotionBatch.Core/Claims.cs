namespace EmotionBatch.Core;

/// <summary>
/// Lets several workers share one source and one output: a recording is worked on by whoever holds its claim.
/// Claims live in the shared output store and expire on their own, so a worker that dies loses its claims and
/// another worker picks the recordings up.
/// </summary>
public interface IRecordingClaims
{
    /// <summary>A claim on every version of the recording, or null when another worker holds it.</summary>
    Task<IRecordingClaim?> TryClaimAsync(RecordingRef recording, CancellationToken cancellationToken);
}

/// <summary>A held claim, kept alive in the background until disposed; disposing releases it.</summary>
public interface IRecordingClaim : IAsyncDisposable
{
    /// <summary>
    /// Fires when the claim can no longer be trusted (renewal failed, lease taken): work under it must stop before
    /// committing, and is redone by whoever claims the recording next.
    /// </summary>
    CancellationToken Lost { get; }
}

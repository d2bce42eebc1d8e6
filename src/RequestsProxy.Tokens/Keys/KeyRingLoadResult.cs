namespace RequestsProxy.Tokens.Keys;

/// <summary>Either a valid ring or the reason the folder does not hold one.</summary>
public sealed record KeyRingLoadResult(KeyRing? Ring, string? Error)
{
    public bool Success => Ring is not null;

    public static KeyRingLoadResult Ok(KeyRing ring) => new(ring, null);

    public static KeyRingLoadResult Fail(string error) => new(null, error);
}

using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// Validates tokens for the proxy. A pod sends the same token on every request, so a token whose
/// signature, audience and issuer checked out is remembered (bounded, emptied when the key ring
/// changes); lifetime and revocation are still checked on every request.
/// </summary>
public sealed class TokenValidator
{
    private readonly TokenVerifier _verifier;
    private readonly IKeyRingSource _keys;
    private readonly IRevocationSource _revocations;
    private readonly ConcurrentDictionary<string, VerifiedClaims> _cache = new(SignatureSuffixComparer.Instance);
    private readonly ConcurrentDictionary<string, VerifiedClaims>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private readonly int _capacity;
    private int _cacheCount;
    private long _cacheGeneration = -1;
    private long _cacheHits;
    private long _cacheMisses;

    public TokenValidator(IKeyRingSource keys, IRevocationSource revocations, TokenValidationOptions options, TimeProvider time)
    {
        _keys = keys;
        _revocations = revocations;
        _verifier = new TokenVerifier(keys, revocations, options, time);
        _capacity = Math.Max(0, options.CacheCapacity);
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public TokenVerifier Verifier => _verifier;

    public long CacheHits => Interlocked.Read(ref _cacheHits);

    public long CacheMisses => Interlocked.Read(ref _cacheMisses);

    public int CacheCount => Volatile.Read(ref _cacheCount);

    public TokenValidationResult Validate(string? token) => Validate(token.AsSpan());

    /// <summary>Validates a token given as characters (e.g. a slice of the Authorization header); a cache hit allocates nothing.</summary>
    public TokenValidationResult Validate(ReadOnlySpan<char> token)
    {
        if (token.IsEmpty)
        {
            return TokenValidationResult.Fail(TokenFailure.Malformed);
        }

        var ring = _keys.Current;
        if (ring is not null && ring.Generation != Volatile.Read(ref _cacheGeneration))
        {
            ResetCache(ring.Generation);
        }

        if (_cacheBySpan.TryGetValue(token, out var cached))
        {
            Interlocked.Increment(ref _cacheHits);
            var lifetime = _verifier.CheckLifetime(_verifier.NowSeconds, cached.ExpiresAt, cached.NotBefore);
            if (lifetime != TokenFailure.None)
            {
                return TokenValidationResult.Fail(lifetime);
            }

            return _revocations.Current.Contains(cached.Jti)
                ? TokenValidationResult.Fail(TokenFailure.Revoked)
                : new TokenValidationResult(TokenFailure.None, cached);
        }

        Interlocked.Increment(ref _cacheMisses);
        return ValidateUncached(token);
    }

    [SkipLocalsInit]
    private TokenValidationResult ValidateUncached(ReadOnlySpan<char> token)
    {
        Span<byte> workspace = stackalloc byte[TokenVerifier.WorkspaceSize];
        var failure = _verifier.Verify(token, workspace, out var view);
        if (failure != TokenFailure.None)
        {
            return TokenValidationResult.Fail(failure);
        }

        var claims = view.ToClaims();

        // Only remember what the ring in force verified; a ring change empties the cache anyway.
        if (_capacity > 0 && view.RingGeneration == Volatile.Read(ref _cacheGeneration))
        {
            if (Volatile.Read(ref _cacheCount) >= _capacity)
            {
                // Full: start over rather than track recency on every hit; each live pod re-verifies once.
                ResetCache(view.RingGeneration);
            }

            if (_cacheBySpan.TryAdd(token, claims))
            {
                Interlocked.Increment(ref _cacheCount);
            }
        }

        return new TokenValidationResult(TokenFailure.None, claims);
    }

    private void ResetCache(long generation)
    {
        lock (_cache)
        {
            _cache.Clear();
            Volatile.Write(ref _cacheCount, 0);
            Volatile.Write(ref _cacheGeneration, generation);
        }
    }
}

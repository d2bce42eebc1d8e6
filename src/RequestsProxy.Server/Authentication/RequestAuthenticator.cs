using System.Collections.Frozen;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Legacy;
using RequestsProxy.Server.Metrics;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Server.Authentication;

/// <summary>
/// One authenticator for both modes, so the flip between them costs no 401 (DESIGN §12,
/// docs/operations.md): a token with two dots is verified as a JWT (DESIGN §4); any token that is
/// not a valid JWT is accepted when the mounted legacy token list holds its digest (and the entry
/// has not ended), or — legacy mode only — when this process registered it (legacy registration
/// takes dots too, so a listed token is found whatever its shape).
/// Every refusal keeps its old answer: a stateless proxy calls an unknown opaque token what the
/// JWT validator calls it (<c>malformed</c>), a legacy one <c>unknown_token</c>.
/// </summary>
internal sealed class RequestAuthenticator : IRequestAuthenticator
{
    private readonly TokenSources _sources;
    private readonly Tokens.Jwt.TokenValidator _validator;
    private readonly LegacyTokenRegistry? _registry;
    private readonly TimeProvider _time;
    private readonly ProxyMetrics _metrics;
    private ListedCallers _listed = new(LegacyTokenList.Empty);

    public RequestAuthenticator(TokenSources sources, LegacyTokenRegistry registry, ProxySettings settings, TimeProvider time, ProxyMetrics metrics)
    {
        _sources = sources;
        _validator = sources.Validator;
        _registry = settings.Stateless ? null : registry;
        _time = time;
        _metrics = metrics;
        if (_registry is { } legacy)
        {
            sources.LegacyTokens.Changed += legacy.ApplyEnds;
            sources.LegacyTokens.Changed += legacy.PruneTombstones;
            legacy.ApplyEnds(sources.LegacyTokens.Current);
        }
    }

    public bool IsReady => _sources.IsReady;

    public AuthenticationResult Authenticate(ReadOnlySpan<char> token) => Authenticate(token, counted: true);

    // Re-judging a relay every second must not look like new legacy traffic: the cutover is over when that count stops growing.
    public AuthenticationResult Recheck(ReadOnlySpan<char> token) => Authenticate(token, counted: false);

    private AuthenticationResult Authenticate(ReadOnlySpan<char> token, bool counted)
    {
        if (token.IsEmpty)
        {
            return AuthenticationResult.Fail(Tokens.Jwt.TokenFailureReasons.Malformed);
        }

        if (token.Count('.') == 2)
        {
            return AuthenticateJwt(token, counted);
        }

        if (FindLegacy(token, counted) is { } legacy)
        {
            return legacy;
        }

        return _registry is null
            ? AuthenticationResult.Fail(_validator.Validate(token).Reason)
            : AuthenticationResult.Fail(AuthReasons.UnknownToken);
    }

    private AuthenticationResult AuthenticateJwt(ReadOnlySpan<char> token, bool counted)
    {
        if (!_sources.JwtReady)
        {
            // Legacy mode before the ring loads (stateless mode is not ready at all then): the token may be valid.
            return FindLegacy(token, counted) ?? AuthenticationResult.Fail(AuthReasons.NotReady);
        }

        var result = _validator.Validate(token);
        if (result.IsValid)
        {
            var claims = result.Claims!;
            return new AuthenticationResult(new CallerIdentity(claims.Subject, claims.Jti, claims.Scopes), AuthReasons.Ok);
        }

        // Legacy registration takes any printable token, dots included: a listed (or, legacy mode, registered) one
        // is found by the same rule as any other legacy token, in both modes.
        return FindLegacy(token, counted) ?? AuthenticationResult.Fail(result.Reason);
    }

    /// <summary>
    /// A legacy token by digest. The list first: when it holds the digest it decides (a removed or ended
    /// entry is never overruled by this pod's memory); the registry only speaks for tokens the list has not reached.
    /// </summary>
    private AuthenticationResult? FindLegacy(ReadOnlySpan<char> token, bool counted)
    {
        if (_registry is { AwaitingSync: true })
        {
            // Legacy, not synced yet: its list copy may predate a stop's end, and its forgets are gone (B7). A valid JWT never gets here.
            return AuthenticationResult.Fail(AuthReasons.NotReady);
        }

        Span<char> digest = stackalloc char[LegacyTokenDigest.Length];
        if (!LegacyTokenDigest.TryCompute(token, digest))
        {
            return null;
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var listedCallers = Listed();
        if (listedCallers.Contains(digest))
        {
            if (listedCallers.Find(digest, now) is { } listed && _registry?.IsForgotten(digest) != true)
            {
                if (counted)
                {
                    _metrics.LegacyAccepted("list");
                }

                return new AuthenticationResult(listed, AuthReasons.Ok);
            }
        }
        else if (_registry?.Find(digest, now) is { } registered)
        {
            if (counted)
            {
                _metrics.LegacyAccepted("registry");
            }

            return new AuthenticationResult(registered, AuthReasons.Ok);
        }

        return null;
    }

    /// <summary>The callers of the list in force, built once per list (not per request).</summary>
    private ListedCallers Listed()
    {
        var list = _sources.LegacyTokens.Current;
        var listed = Volatile.Read(ref _listed);
        if (!ReferenceEquals(listed.List, list))
        {
            listed = new ListedCallers(list);
            Volatile.Write(ref _listed, listed);
        }

        return listed;
    }

    private sealed class ListedCallers
    {
        private readonly FrozenDictionary<string, (LegacyTokenEntry Entry, CallerIdentity Caller)>.AlternateLookup<ReadOnlySpan<char>> _byDigest;

        public ListedCallers(LegacyTokenList list)
        {
            List = list;
            _byDigest = list.Entries
                .GroupBy(e => e.Digest, StringComparer.Ordinal)
                .ToFrozenDictionary(g => g.Key, g => (g.Last(), new CallerIdentity(g.Last().Sub, null, g.Last().Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))), StringComparer.Ordinal)
                .GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public LegacyTokenList List { get; }

        public CallerIdentity? Find(ReadOnlySpan<char> digest, long nowSeconds) =>
            _byDigest.TryGetValue(digest, out var found) && found.Entry.IsLive(nowSeconds) ? found.Caller : null;

        public bool Contains(ReadOnlySpan<char> digest) => _byDigest.TryGetValue(digest, out _);
    }
}

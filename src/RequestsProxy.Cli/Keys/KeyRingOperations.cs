using System.Globalization;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Keys;

/// <summary>
/// The rotation verbs of DESIGN §3 over any store: init, add, promote, retire. Retire refuses the
/// active kid always, and a kid whose tokens may still be alive unless forced.
/// </summary>
internal sealed class KeyRingOperations(IKeyRingStore store, TimeProvider time)
{
    public async Task<string> InitAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var document = new KeyRingDocument(
            "v1",
            new Dictionary<string, string> { ["v1"] = KeyRingRules.GenerateKey() },
            KeyHistory.Empty.With("v1", _ => new KidHistory(now, now)));
        await store.WriteAsync(document, create: true, cancellationToken);
        return "v1";
    }

    public async Task<string> AddAsync(CancellationToken cancellationToken)
    {
        var document = await ReadRequiredAsync(cancellationToken);
        var kid = KeyRingRules.NextKid(document.Keys.Keys);
        var keys = new Dictionary<string, string>(document.Keys, StringComparer.Ordinal) { [kid] = KeyRingRules.GenerateKey() };
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        await store.WriteAsync(document with { Keys = keys, History = document.History.With(kid, _ => new KidHistory(now)) }, create: false, cancellationToken);
        return kid;
    }

    /// <summary>Makes <paramref name="kid"/> the signing key; false when it already was.</summary>
    public async Task<bool> PromoteAsync(string kid, CancellationToken cancellationToken)
    {
        var document = await ReadRequiredAsync(cancellationToken);
        RequireKid(document, kid);
        if (document.Active == kid)
        {
            return false;
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var history = document.History
            .With(document.Active, h => h with { Demoted = now })
            .With(kid, h => h with { Promoted = now, Demoted = null });
        await store.WriteAsync(document with { Active = kid, History = history }, create: false, cancellationToken);
        return true;
    }

    public async Task RetireAsync(string kid, bool force, TimeSpan tokenLifetime, CancellationToken cancellationToken)
    {
        var document = await ReadRequiredAsync(cancellationToken);
        RequireKid(document, kid);
        if (document.Active == kid)
        {
            throw new CliException($"'{kid}' is the active key and cannot be retired; promote another key first", ExitCodes.Refused);
        }

        var safety = RetireSafety(document, kid, tokenLifetime);
        if (!safety.Safe && !force)
        {
            throw new CliException($"refusing to retire '{kid}': {safety.Reason}; pass --force if you know no such token is in use", ExitCodes.Refused);
        }

        var keys = document.Keys.Where(k => k.Key != kid).ToDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal);
        await store.WriteAsync(document with { Keys = keys, History = document.History.Without(kid) }, create: false, cancellationToken);
    }

    public async Task<KeyRingDocument> ReadRequiredAsync(CancellationToken cancellationToken) =>
        await store.ReadAsync(cancellationToken) ?? throw new CliException($"there is no key ring in '{store.Location}'; run 'rpctl keys init' first");

    /// <summary>Whether tokens signed with <paramref name="kid"/> can no longer be alive, and why not.</summary>
    public (bool Safe, string Reason) RetireSafety(KeyRingDocument document, string kid, TimeSpan tokenLifetime)
    {
        if (document.Active == kid)
        {
            return (false, "it is the active key");
        }

        var history = document.History.For(kid);
        if (history is { Promoted: null })
        {
            return (true, "it never signed a token");
        }

        if (history?.Demoted is not { } demoted)
        {
            return (false, "there is no record of when it stopped signing, so tokens it signed may still be alive");
        }

        var aliveUntil = demoted + (long)tokenLifetime.TotalSeconds + (long)TokenDefaults.Leeway.TotalSeconds;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return now >= aliveUntil
            ? (true, "its last token has expired")
            : (false, $"it signed tokens until {Format(demoted)}, which may be valid until {Format(aliveUntil)}");
    }

    private static void RequireKid(KeyRingDocument document, string kid)
    {
        if (!KeyRingRules.IsKid(kid))
        {
            throw new CliException($"'{kid}' is not a kid; kids look like v1, v2, …");
        }

        if (!document.Keys.ContainsKey(kid))
        {
            throw new CliException($"there is no key '{kid}' (the ring has {string.Join(", ", document.Keys.Keys.OrderBy(KeyRingRules.KidNumber))})", ExitCodes.Refused);
        }
    }

    private static string Format(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

using System.CommandLine;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Cli.Commands;

/// <summary><c>rpctl revoke</c> and <c>rpctl prune</c> on a local revocation list file.</summary>
internal static class RevocationCommands
{
    private static Option<string> RevokedFile() => new("--revoked") { Description = "The revocation list file (revoked.json); created if missing", Required = true };

    public static Command Revoke()
    {
        var file = RevokedFile();
        var jti = new Option<string?>("--jti") { Description = "The token id to revoke (with --exp; or give --token)" };
        var exp = CommonOptions.UnixSeconds("--exp", "The token's expiry (Unix seconds); the entry is pruned after it");
        var sub = new Option<string?>("--sub") { Description = "The job the token belonged to (for the record; with --token, default: its sub)" };
        var token = new Option<string?>("--token")
        {
            Description = "Revoke this token (or - to read it from standard input): its jti, exp and sub are read from it, unverified",
        };
        var command = new Command("revoke", "Add a token id to a revocation list (atomic write, nothing lost on concurrent writers)") { file, jti, exp, sub, token };
        command.SetAction(parse =>
        {
            var entry = parse.GetValue(token) is { } text
                ? FromToken(text, parse, jti, exp, sub)
                : FromOptions(parse, jti, exp, sub);
            var list = RevocationFile.Update(parse.GetValue(file)!, l => l.Add([entry]));
            Console.WriteLine($"revoked {entry.Jti}; the list holds {list.Count} entries");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static RevocationEntry FromOptions(ParseResult parse, Option<string?> jti, Option<double?> exp, Option<string?> sub)
    {
        var id = parse.GetValue(jti);
        var expiry = CommonOptions.Finite(parse, exp);
        if (id is null || expiry is null)
        {
            throw new CliException("give --jti and --exp, or --token TOKEN");
        }

        if (id.Length == 0)
        {
            throw new CliException("--jti must not be empty");
        }

        return new RevocationEntry(id, (long)Math.Ceiling(expiry.Value), parse.GetValue(sub));
    }

    /// <summary>
    /// The entry for a token as it is: revoking needs no key (a forged token in the list harms nobody), so the
    /// claims are read unverified, as <c>token inspect</c> shows them.
    /// </summary>
    private static RevocationEntry FromToken(string text, ParseResult parse, Option<string?> jti, Option<double?> exp, Option<string?> sub)
    {
        if (parse.GetValue(jti) is not null || parse.GetValue(exp) is not null)
        {
            throw new CliException("--token reads the jti and exp from the token: give either --token or --jti and --exp");
        }

        var token = CommonOptions.ReadToken(text);
        if (!TokenCommand.TryDecode(token, out _, out var payload) || payload is not System.Text.Json.Nodes.JsonObject claims)
        {
            throw new CliException("--token is not a token (three base64url JSON parts)" + (MalformedHint.For(token) is { } hint ? $": {hint}" : string.Empty));
        }

        if (claims["jti"] is not System.Text.Json.Nodes.JsonValue jtiValue || !jtiValue.TryGetValue<string>(out var id) || id.Length == 0)
        {
            throw new CliException("the token has no string jti claim, so it cannot be revoked by id");
        }

        if (claims["exp"] is not System.Text.Json.Nodes.JsonValue expValue || !expValue.TryGetValue<double>(out var expiry) || !double.IsFinite(expiry))
        {
            throw new CliException("the token has no numeric exp claim; give --jti and --exp instead");
        }

        var subject = parse.GetValue(sub) ?? (claims["sub"] is System.Text.Json.Nodes.JsonValue subValue && subValue.TryGetValue<string>(out var s) ? s : null);
        // A far-future exp (1e300) is kept as the last instant a clock can hold, not overflowed.
        var last = DateTimeOffset.MaxValue.ToUnixTimeSeconds();
        return new RevocationEntry(id, (long)Math.Ceiling(Math.Clamp(expiry, -last, last)), subject);
    }

    public static Command Prune()
    {
        var file = RevokedFile();
        var now = CommonOptions.Now();
        var leeway = CommonOptions.Seconds("--leeway", "Clock-skew leeway in seconds", TokenDefaults.Leeway.TotalSeconds);
        var command = new Command("prune", "Drop entries whose token expired (exp + leeway has passed); never anything else") { file, now, leeway };
        command.SetAction(parse =>
        {
            var grace = CommonOptions.Leeway(parse, leeway);
            var time = FixedTimeProvider.From(CommonOptions.Finite(parse, now));
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                // Nothing to prune, and no file created at a path that may be a typo.
                CommonOptions.WarnIfMissing(path);
                Console.WriteLine("pruned 0 entries; 0 remain");
                return ExitCodes.Ok;
            }

            var removed = 0;
            var list = RevocationFile.Update(path, l => l.Prune(time.GetUtcNow(), grace, out removed));
            Console.WriteLine($"pruned {removed} entries; {list.Count} remain");
            return ExitCodes.Ok;
        });
        return command;
    }
}

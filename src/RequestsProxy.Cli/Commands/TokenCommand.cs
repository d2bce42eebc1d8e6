using System.Buffers.Text;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Cli.Commands;

/// <summary><c>rpctl token mint|verify|inspect</c>.</summary>
internal static class TokenCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var token = new Command("token", "Mint, verify and inspect job tokens");
        token.Subcommands.Add(Mint());
        token.Subcommands.Add(Verify());
        token.Subcommands.Add(Inspect());
        return token;
    }

    private static Option<string> Keys() => new("--keys") { Description = "The key ring folder", Required = true };

    private static Option<string> Audience() => new("--aud") { Description = "Audience", DefaultValueFactory = _ => TokenDefaults.Audience };

    private static Option<string> Issuer() => new("--iss") { Description = "Issuer", DefaultValueFactory = _ => TokenDefaults.Issuer };

    private static Command Mint()
    {
        var keys = Keys();
        var sub = new Option<string>("--sub") { Description = "The job id (the token's subject)", Required = true };
        var ttl = CommonOptions.Ttl("Lifetime in seconds");
        var scope = new Option<string>("--scope") { Description = "Space-separated scopes", DefaultValueFactory = _ => TokenDefaults.Scope };
        var aud = Audience();
        var iss = Issuer();
        var command = new Command("mint", "Sign a token with the active key; prints only the token") { keys, sub, ttl, scope, aud, iss };
        command.SetAction(parse =>
        {
            var subject = parse.GetValue(sub)!;
            if (subject.Length == 0)
            {
                throw new CliException("--sub must not be empty");
            }

            var ring = CommonOptions.LoadRing(parse.GetValue(keys)!);
            var minted = new TokenIssuer(new StaticKeyRingSource(ring), TimeProvider.System).Mint(new TokenRequest(subject)
            {
                Lifetime = TimeSpan.FromSeconds(parse.GetValue(ttl)),
                Scope = parse.GetValue(scope)!,
                Audience = parse.GetValue(aud)!,
                Issuer = parse.GetValue(iss)!,
            });
            Console.WriteLine(minted.Token);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Verify()
    {
        var keys = Keys();
        var revoked = new Option<string?>("--revoked") { Description = "A revocation list file (revoked.json)" };
        var aud = Audience();
        var iss = Issuer();
        var now = CommonOptions.Now();
        var leeway = CommonOptions.Seconds("--leeway", "Clock-skew leeway in seconds", TokenDefaults.Leeway.TotalSeconds);
        var token = CommonOptions.Token();
        var command = new Command("verify", "Verify a token: exit 0 and print its claims, or exit 1 and print 'invalid: <reason>'") { keys, revoked, aud, iss, now, leeway, token };
        command.SetAction(parse =>
        {
            var ring = CommonOptions.LoadRing(parse.GetValue(keys)!);
            // No file yet is the empty list (as `revoke` starts one), but a typo'd path would pass a revoked token: say so.
            var revocations = RevocationList.Empty;
            if (parse.GetValue(revoked) is { } path)
            {
                revocations = RevocationFile.Read(path);
                CommonOptions.WarnIfMissing(path);
            }

            var options = new TokenValidationOptions
            {
                Audience = parse.GetValue(aud)!,
                Issuer = parse.GetValue(iss)!,
                Leeway = CommonOptions.Leeway(parse, leeway),
                CacheCapacity = 0,
            };
            var text = CommonOptions.ReadToken(parse.GetValue(token)!);
            var validator = new TokenValidator(new StaticKeyRingSource(ring), new StaticRevocationSource(revocations), options, FixedTimeProvider.From(CommonOptions.Finite(parse, now)));
            var result = validator.Validate(text);
            if (!result.IsValid)
            {
                // The first stdout line is the contract (DESIGN §10); what made it malformed goes to stderr.
                Console.WriteLine($"invalid: {result.Reason}");
                if (result.Reason == TokenFailureReasons.Malformed && MalformedHint.For(text) is { } hint)
                {
                    Console.Error.WriteLine($"rpctl: hint: {hint}");
                }

                return ExitCodes.Refused;
            }

            // The signature checked out, so the payload can now be shown as the verified claims.
            var payload = JsonNode.Parse(Base64Url.DecodeFromChars(text.Split('.')[1]));
            Console.WriteLine(payload!.ToJsonString(Indented));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Inspect()
    {
        var token = CommonOptions.Token();
        var command = new Command("inspect", "Print a token's header and payload WITHOUT verifying it") { token };
        command.SetAction(parse =>
        {
            var text = CommonOptions.ReadToken(parse.GetValue(token)!);
            if (!TryDecode(text, out var header, out var payload))
            {
                Console.WriteLine($"invalid: {TokenFailureReasons.Malformed}");
                if (MalformedHint.For(text) is { } hint)
                {
                    Console.Error.WriteLine($"rpctl: hint: {hint}");
                }

                return ExitCodes.Refused;
            }

            Console.WriteLine(new JsonObject { ["header"] = header, ["payload"] = payload }.ToJsonString(Indented));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A token's header and payload, unverified; false when it is not three segments of base64url JSON.</summary>
    public static bool TryDecode(string token, out JsonNode? header, out JsonNode? payload)
    {
        header = null;
        payload = null;
        var parts = token.Split('.');
        return parts.Length == 3 && TryDecodeJson(parts[0], out header) && TryDecodeJson(parts[1], out payload);
    }

    private static bool TryDecodeJson(string segment, out JsonNode? node)
    {
        node = null;
        try
        {
            node = JsonNode.Parse(Base64Url.DecodeFromChars(segment));
            return node is not null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return false;
        }
    }
}

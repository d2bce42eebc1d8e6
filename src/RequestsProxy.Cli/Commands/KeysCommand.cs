using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RequestsProxy.Cli.Keys;
using RequestsProxy.JobsApi;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Commands;

/// <summary>
/// <c>rpctl keys init|add|list|promote|retire|status</c> on a key ring folder (<c>--dir</c>) or on
/// the keys Secret (<c>--kubernetes</c>).
/// </summary>
internal static class KeysCommand
{
    // Terminal output, not HTML: keep quotes and non-ASCII readable.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var keys = new Command("keys", "Manage the HMAC key ring (rotation: add, wait for every proxy, promote, retire later)");
        keys.Subcommands.Add(Init());
        keys.Subcommands.Add(Add());
        keys.Subcommands.Add(List());
        keys.Subcommands.Add(Promote());
        keys.Subcommands.Add(Retire());
        keys.Subcommands.Add(Status());
        return keys;
    }

    private static KeyRingOperations Operations(ParseResult parse, KeyStoreOptions store, TimeProvider? time = null) =>
        new(store.CreateStore(parse), time ?? TimeProvider.System);

    private static Command Init()
    {
        var store = new KeyStoreOptions();
        var command = new Command("init", "Create a key ring with one generated key, v1, active (with --kubernetes: create the keys Secret)");
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var kid = await Operations(parse, store).InitAsync(ct);
            Console.WriteLine(kid);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Add()
    {
        var store = new KeyStoreOptions();
        var command = new Command("add", "Add the next key v(N+1), not active; prints its kid");
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var kid = await Operations(parse, store).AddAsync(ct);
            Console.WriteLine(kid);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var store = new KeyStoreOptions();
        var ttl = TtlOption();
        var leeway = LeewayOption();
        var command = new Command("list", "List the kids, which one is active, and whether each is safe to retire by its history") { ttl, leeway };
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var operations = Operations(parse, store);
            var document = await operations.ReadRequiredAsync(ct);
            Console.WriteLine($"{"KID",-6} {"ACTIVE",-6} {"ADDED",-20} {"PROMOTED",-20} {"DEMOTED",-20} RETIRE");
            foreach (var kid in document.Keys.Keys.OrderBy(KeyRingRules.KidNumber))
            {
                var h = document.History.For(kid);
                var (safe, reason) = operations.RetireSafety(document, kid, Timing(parse, ttl, leeway, null));
                Console.WriteLine($"{kid,-6} {(kid == document.Active ? "yes" : ""),-6} {Format(h?.Added),-20} {Format(h?.Promoted),-20} {Format(h?.Demoted),-20} {(safe ? "safe" : "unsafe")}: {reason}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Promote()
    {
        var store = new KeyStoreOptions();
        var kid = new Argument<string>("KID") { Description = "The kid to sign new tokens with" };
        var command = new Command("promote", "Make KID the active signing key (old tokens keep verifying)") { kid };
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var changed = await Operations(parse, store).PromoteAsync(parse.GetValue(kid)!, ct);
            Console.WriteLine(changed ? $"active: {parse.GetValue(kid)}" : $"{parse.GetValue(kid)} is already active");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Retire()
    {
        var store = new KeyStoreOptions();
        var jobsApi = new JobsApiOptions();
        var kid = new Argument<string>("KID") { Description = "The kid to remove" };
        var force = new Option<bool>("--force") { Description = "Retire even though tokens signed with KID may still be alive (never the active key)" };
        var ttl = TtlOption();
        var leeway = LeewayOption();
        var now = CommonOptions.UnixSeconds("--now", "Judge the rules at this instant (Unix seconds); a later instant than the clock's is a dry run that changes nothing");
        var command = new Command(
            "retire",
            "Remove KID from the ring; refuses the active key, and an unsafe retire without --force. With a jobs-manager (--jobs-manager or " +
            $"${JobsApiOptions.UrlVariable}) it also refuses while the jobs-manager reports live tokens signed with KID, and judges by its token lifetime")
        {
            kid, force, ttl, leeway, now,
        };
        store.AddTo(command);
        jobsApi.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var at = CommonOptions.Finite(parse, now);
            var time = FixedTimeProvider.From(at);
            var operations = Operations(parse, store, time);
            var name = parse.GetValue(kid)!;

            // The active key is refused (exit 1) before anything else, jobs-manager reachable or not.
            var document = await operations.ReadRequiredAsync(ct);
            KeyRingOperations.RefuseRetiringActive(document, name);

            // --force overrides whatever usage would say, so a jobs-manager that is down does not block it.
            var usage = !parse.GetValue(force) && jobsApi.IsGiven(parse) ? await UsageAsync(parse, jobsApi, ct) : null;
            var timing = Timing(parse, ttl, leeway, usage);

            // A retire judged at a future instant would remove a key whose tokens are alive now: only say what would happen.
            if (at is { } instant && instant > TimeProvider.System.GetUtcNow().ToUnixTimeSeconds())
            {
                var (safe, reason) = operations.RetireSafety(document, name, timing, usage?.Kids);
                var when = DateTimeOffset.FromUnixTimeSeconds((long)instant).ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                Console.WriteLine(safe || parse.GetValue(force)
                    ? $"dry run (--now {when} is in the future), nothing changed: would retire {name}: {(safe ? reason : "forced")}"
                    : $"dry run (--now {when} is in the future), nothing changed: would refuse to retire {name}: {reason}");
                return safe || parse.GetValue(force) ? ExitCodes.Ok : ExitCodes.Refused;
            }

            await operations.RetireAsync(name, parse.GetValue(force), timing, usage?.Kids, ct);
            Console.WriteLine($"retired: {name}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Status()
    {
        var store = new KeyStoreOptions();
        var jobsApi = new JobsApiOptions();
        var ttl = TtlOption();
        var leeway = LeewayOption();
        var now = CommonOptions.Now();
        var output = CommonOptions.Output();
        var command = new Command(
            "status",
            "Per kid: active, when added, promoted and demoted, live tokens (from the jobs-manager's GET /v1/keys/usage), and whether it is safe to retire")
        {
            ttl, leeway, now, output,
        };
        store.AddTo(command);
        jobsApi.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var time = FixedTimeProvider.From(CommonOptions.Finite(parse, now));
            var keyStore = store.CreateStore(parse);
            var operations = new KeyRingOperations(keyStore, time);
            var document = await operations.ReadRequiredAsync(ct);
            var usage = jobsApi.IsGiven(parse) ? await UsageAsync(parse, jobsApi, ct) : null;
            var timing = Timing(parse, ttl, leeway, usage);
            var rows = operations.Status(document, timing, usage?.Kids);
            if (parse.GetValue(output) == CommonOptions.Json)
            {
                Console.WriteLine(StatusJson(keyStore, document.Active, usage is not null, timing, rows).ToJsonString(Indented));
                return ExitCodes.Ok;
            }

            Console.WriteLine($"key ring: {keyStore.Location}, active {document.Active}; {timing.Describe()}");
            var table = new TextTable("KID", "ACTIVE", "ADDED", "PROMOTED", "DEMOTED", "LIVE TOKENS", "RETIRE");
            foreach (var row in rows)
            {
                table.Add(
                    row.Kid,
                    row.Active ? "yes" : row.InRing ? string.Empty : "retired",
                    Format(row.History?.Added),
                    Format(row.History?.Promoted),
                    Format(row.History?.Demoted),
                    row.LiveTokens?.ToString(CultureInfo.InvariantCulture) ?? "?",
                    $"{(row.SafeToRetire ? "safe" : "unsafe")}: {row.Reason}");
            }

            Console.Write(table.ToString());
            if (usage is null)
            {
                Console.WriteLine($"live tokens unknown: pass --jobs-manager URL (or set {JobsApiOptions.UrlVariable}) to ask the jobs-manager");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The jobs-manager's live tokens per kid, and the token lifetime and leeway it runs with.</summary>
    private static async Task<JobsManagerUsage> UsageAsync(ParseResult parse, JobsApiOptions jobsApi, CancellationToken cancellationToken)
    {
        using var client = jobsApi.Connect(parse);
        var reply = await client.KeyUsageAsync(cancellationToken);
        return new JobsManagerUsage(
            reply.Value.Keys.DistinctBy(k => k.Kid, StringComparer.Ordinal).ToDictionary(k => k.Kid, StringComparer.Ordinal),
            reply.Value.TokenTtlSeconds is > 0 and var ttl ? TimeSpan.FromSeconds(ttl) : null,
            reply.Value.LeewaySeconds is >= 0 and var leeway ? TimeSpan.FromSeconds(leeway) : null);
    }

    /// <summary>
    /// The lifetime and leeway a demoted key is judged by: a value given on the command line wins; else the
    /// jobs-manager's own settings when it was asked (a jobs-manager running with 120 s tokens makes a key safe to
    /// retire 150 s after its demotion, not 90 days); else the defaults.
    /// </summary>
    private static TokenTiming Timing(ParseResult parse, Option<long> ttl, Option<double> leeway, JobsManagerUsage? usage)
    {
        var ttlGiven = parse.GetResult(ttl) is { Implicit: false };
        var leewayGiven = parse.GetResult(leeway) is { Implicit: false };
        var lifetime = ttlGiven ? TimeSpan.FromSeconds(parse.GetValue(ttl)) : usage?.Lifetime ?? TokenTiming.Default.Lifetime;
        var grace = leewayGiven ? CommonOptions.Leeway(parse, leeway) : usage?.Leeway ?? TokenTiming.Default.Leeway;
        var source = (ttlGiven, leewayGiven, usage?.Lifetime is not null) switch
        {
            (true, true, _) => "from --ttl and --leeway",
            (true, false, _) => "from --ttl",
            (false, _, true) => leewayGiven ? "from the jobs-manager and --leeway" : "from the jobs-manager",
            _ => leewayGiven ? "default lifetime, --leeway" : "the defaults: pass --ttl, or --jobs-manager to ask it",
        };
        return new TokenTiming(lifetime, grace, source);
    }

    private static JsonObject StatusJson(IKeyRingStore store, string active, bool usageConsulted, TokenTiming timing, IReadOnlyList<KidStatus> rows)
    {
        var keys = new JsonArray();
        foreach (var row in rows)
        {
            keys.Add(new JsonObject
            {
                ["kid"] = row.Kid,
                ["active"] = row.Active,
                ["inRing"] = row.InRing,
                ["added"] = row.History?.Added,
                ["promoted"] = row.History?.Promoted,
                ["demoted"] = row.History?.Demoted,
                ["liveTokens"] = row.LiveTokens,
                ["latestExpiry"] = row.LatestExpiry?.ToUnixTimeSeconds(),
                ["safeToRetire"] = row.SafeToRetire,
                ["reason"] = row.Reason,
            });
        }

        return new JsonObject
        {
            // The path or namespace/name itself, not the quoted form of the human-readable messages.
            ["keyRing"] = store.Name,
            ["store"] = store.Kind,
            ["active"] = active,
            ["usageConsulted"] = usageConsulted,
            ["tokenTtlSeconds"] = (long)timing.Lifetime.TotalSeconds,
            ["leewaySeconds"] = (long)timing.Leeway.TotalSeconds,
            ["timingSource"] = timing.Source,
            ["keys"] = keys,
        };
    }

    private static Option<long> TtlOption() =>
        CommonOptions.Ttl("Token lifetime in seconds, to judge when a demoted key's last token expires (default: the jobs-manager's when it is asked, else 7776000)");

    private static Option<double> LeewayOption() =>
        CommonOptions.Seconds("--leeway", "Clock-skew leeway in seconds added to the lifetime (default: the jobs-manager's when it is asked, else 30)", TokenDefaults.Leeway.TotalSeconds);

    private static string Format(long? seconds) =>
        seconds is { } s ? DateTimeOffset.FromUnixTimeSeconds(s).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";
}

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
        var command = new Command("list", "List the kids, which one is active, and whether each is safe to retire by its history") { ttl };
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var operations = Operations(parse, store);
            var document = await operations.ReadRequiredAsync(ct);
            Console.WriteLine($"{"KID",-6} {"ACTIVE",-6} {"ADDED",-20} {"PROMOTED",-20} {"DEMOTED",-20} RETIRE");
            foreach (var kid in document.Keys.Keys.OrderBy(KeyRingRules.KidNumber))
            {
                var h = document.History.For(kid);
                var (safe, reason) = operations.RetireSafety(document, kid, TimeSpan.FromSeconds(parse.GetValue(ttl)));
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
        var now = CommonOptions.Now();
        var command = new Command(
            "retire",
            "Remove KID from the ring; refuses the active key, and an unsafe retire without --force. With a jobs-manager (--jobs-manager or " +
            $"${JobsApiOptions.UrlVariable}) it also refuses while the jobs-manager reports live tokens signed with KID")
        {
            kid, force, ttl, now,
        };
        store.AddTo(command);
        jobsApi.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var time = FixedTimeProvider.From(CommonOptions.Finite(parse, now));
            var operations = Operations(parse, store, time);

            // The active key is refused (exit 1) before anything else, jobs-manager reachable or not.
            KeyRingOperations.RefuseRetiringActive(await operations.ReadRequiredAsync(ct), parse.GetValue(kid)!);

            // --force overrides whatever usage would say, so a jobs-manager that is down does not block it.
            var usage = !parse.GetValue(force) && jobsApi.IsGiven(parse) ? await UsageAsync(parse, jobsApi, ct) : null;
            await operations.RetireAsync(parse.GetValue(kid)!, parse.GetValue(force), TimeSpan.FromSeconds(parse.GetValue(ttl)), usage, ct);
            Console.WriteLine($"retired: {parse.GetValue(kid)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Status()
    {
        var store = new KeyStoreOptions();
        var jobsApi = new JobsApiOptions();
        var ttl = TtlOption();
        var now = CommonOptions.Now();
        var output = CommonOptions.Output();
        var command = new Command(
            "status",
            "Per kid: active, when added, promoted and demoted, live tokens (from the jobs-manager's GET /v1/keys/usage), and whether it is safe to retire")
        {
            ttl, now, output,
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
            var rows = operations.Status(document, TimeSpan.FromSeconds(parse.GetValue(ttl)), usage);
            if (parse.GetValue(output) == CommonOptions.Json)
            {
                Console.WriteLine(StatusJson(keyStore.Location, document.Active, usage is not null, rows).ToJsonString(Indented));
                return ExitCodes.Ok;
            }

            Console.WriteLine($"key ring: {keyStore.Location}, active {document.Active}");
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

    /// <summary>The jobs-manager's live tokens per kid.</summary>
    private static async Task<IReadOnlyDictionary<string, KidUsageResponse>> UsageAsync(ParseResult parse, JobsApiOptions jobsApi, CancellationToken cancellationToken)
    {
        using var client = jobsApi.Connect(parse);
        var reply = await client.KeyUsageAsync(cancellationToken);
        return reply.Value.Keys.DistinctBy(k => k.Kid, StringComparer.Ordinal).ToDictionary(k => k.Kid, StringComparer.Ordinal);
    }

    private static JsonObject StatusJson(string location, string active, bool usageConsulted, IReadOnlyList<KidStatus> rows)
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
            ["keyRing"] = location,
            ["active"] = active,
            ["usageConsulted"] = usageConsulted,
            ["keys"] = keys,
        };
    }

    private static Option<long> TtlOption() =>
        CommonOptions.Ttl("Token lifetime in seconds (the chart's requestsProxy.tokenTtlSeconds), to judge when a demoted key's last token expires");

    private static string Format(long? seconds) =>
        seconds is { } s ? DateTimeOffset.FromUnixTimeSeconds(s).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";
}

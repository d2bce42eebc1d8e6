using System.CommandLine;
using System.Globalization;
using RequestsProxy.Cli.Keys;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Commands;

/// <summary><c>rpctl keys init|add|list|promote|retire</c> on a key ring folder.</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var keys = new Command("keys", "Manage the HMAC key ring (rotation: add, wait for every proxy, promote, retire later)");
        keys.Subcommands.Add(Init());
        keys.Subcommands.Add(Add());
        keys.Subcommands.Add(List());
        keys.Subcommands.Add(Promote());
        keys.Subcommands.Add(Retire());
        return keys;
    }

    private static Option<string> Dir() => new("--dir") { Description = "The key ring folder", Required = true };

    private static KeyRingOperations Operations(ParseResult parse, Option<string> dir, TimeProvider? time = null) =>
        new(new FolderKeyRingStore(parse.GetValue(dir)!), time ?? TimeProvider.System);

    private static Command Init()
    {
        var dir = Dir();
        var command = new Command("init", "Create a key ring with one generated key, v1, active") { dir };
        command.SetAction(async (parse, ct) =>
        {
            var kid = await Operations(parse, dir).InitAsync(ct);
            Console.WriteLine(kid);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Add()
    {
        var dir = Dir();
        var command = new Command("add", "Add the next key v(N+1), not active; prints its kid") { dir };
        command.SetAction(async (parse, ct) =>
        {
            var kid = await Operations(parse, dir).AddAsync(ct);
            Console.WriteLine(kid);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var dir = Dir();
        var ttl = TtlOption();
        var command = new Command("list", "List the kids, which one is active, and whether each is safe to retire") { dir, ttl };
        command.SetAction(async (parse, ct) =>
        {
            var operations = Operations(parse, dir);
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
        var dir = Dir();
        var kid = new Argument<string>("KID") { Description = "The kid to sign new tokens with" };
        var command = new Command("promote", "Make KID the active signing key (old tokens keep verifying)") { dir, kid };
        command.SetAction(async (parse, ct) =>
        {
            var changed = await Operations(parse, dir).PromoteAsync(parse.GetValue(kid)!, ct);
            Console.WriteLine(changed ? $"active: {parse.GetValue(kid)}" : $"{parse.GetValue(kid)} is already active");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Retire()
    {
        var dir = Dir();
        var kid = new Argument<string>("KID") { Description = "The kid to remove" };
        var force = new Option<bool>("--force") { Description = "Retire even though tokens signed with KID may still be alive (never the active key)" };
        var ttl = TtlOption();
        var now = CommonOptions.Now();
        var command = new Command("retire", "Remove KID from the ring; refuses the active key, and an unsafe retire without --force") { dir, kid, force, ttl, now };
        command.SetAction(async (parse, ct) =>
        {
            var time = FixedTimeProvider.From(CommonOptions.Finite(parse, now));
            await Operations(parse, dir, time).RetireAsync(parse.GetValue(kid)!, parse.GetValue(force), TimeSpan.FromSeconds(parse.GetValue(ttl)), ct);
            Console.WriteLine($"retired: {parse.GetValue(kid)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<long> TtlOption()
    {
        var ttl = new Option<long>("--ttl")
        {
            Description = "Token lifetime in seconds, to judge when a demoted key's last token expires",
            DefaultValueFactory = _ => (long)TokenDefaults.Lifetime.TotalSeconds,
        };
        ttl.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long>() <= 0)
            {
                r.AddError("--ttl must be a positive number of seconds");
            }
        });
        return ttl;
    }

    private static string Format(long? seconds) =>
        seconds is { } s ? DateTimeOffset.FromUnixTimeSeconds(s).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";
}

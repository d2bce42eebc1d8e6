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
        var jti = new Option<string>("--jti") { Description = "The token id to revoke", Required = true };
        var exp = new Option<double?>("--exp") { Description = "The token's expiry (Unix seconds); the entry is pruned after it", Required = true };
        var sub = new Option<string?>("--sub") { Description = "The job the token belonged to (for the record)" };
        var command = new Command("revoke", "Add a token id to a revocation list (atomic write, nothing lost on concurrent writers)") { file, jti, exp, sub };
        command.SetAction(parse =>
        {
            var id = parse.GetValue(jti)!;
            if (id.Length == 0)
            {
                throw new CliException("--jti must not be empty");
            }

            var expiry = (long)Math.Ceiling(CommonOptions.Finite(parse, exp)!.Value);
            var list = RevocationFile.Update(parse.GetValue(file)!, l => l.Add([new RevocationEntry(id, expiry, parse.GetValue(sub))]));
            Console.WriteLine($"revoked {id}; the list holds {list.Count} entries");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Prune()
    {
        var file = RevokedFile();
        var now = CommonOptions.Now();
        var leeway = new Option<double>("--leeway") { Description = "Clock-skew leeway in seconds", DefaultValueFactory = _ => TokenDefaults.Leeway.TotalSeconds };
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

using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RequestsProxy.JobsApi;

namespace RequestsProxy.Cli.Commands;

/// <summary><c>rpctl jobs start|stop|list</c> against the jobs-manager's admin API (DESIGN §8).</summary>
internal static class JobsCommand
{
    // Terminal output, not HTML: keep quotes and non-ASCII readable.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var jobs = new Command(
            "jobs",
            $"Start, stop and list training jobs through the jobs-manager (--jobs-manager URL or ${JobsApiOptions.UrlVariable}; " +
            $"--admin-token-file FILE or ${JobsApiOptions.TokenVariable})");
        jobs.Subcommands.Add(Start());
        jobs.Subcommands.Add(Stop());
        jobs.Subcommands.Add(List());
        return jobs;
    }

    private static Command Start()
    {
        var api = new JobsApiOptions();
        var output = CommonOptions.Output();
        var name = new Argument<string>("NAME") { Description = "The job's name (lowercase letters, digits and '-')" };
        var command = new Argument<string[]>("COMMAND")
        {
            Description = "The command to run (put it after --, e.g. -- python train.py --epochs 3)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var image = new Option<string>("--image") { Description = "Container image (Kubernetes runtime)" };
        var args = new Option<string[]>("--arg") { Description = "An argument for the image's entrypoint, without a COMMAND (repeatable)" };
        var scope = new Option<string>("--scope") { Description = "Scopes of the job's token, space-separated (default: the jobs-manager's)" };
        var env = new Option<string[]>("--env", "-e") { Description = "NAME=VALUE for the job's environment (repeatable)" };
        var start = new Command("start", "Start a job: the jobs-manager mints its token and launches it") { name, command, image, args, scope, env, output };
        api.AddTo(start);
        start.SetAction(async (parse, ct) =>
        {
            var body = new StartJobRequest(
                parse.GetValue(name)!,
                parse.GetValue(image),
                parse.GetValue(command) is { Length: > 0 } c ? c : null,
                parse.GetValue(args) is { Length: > 0 } a ? a : null,
                parse.GetValue(scope),
                Environment(parse.GetValue(env)));
            using var client = api.Connect(parse);
            var reply = await client.StartAsync(body, ct);
            if (Json(parse, output, reply.Json))
            {
                return ExitCodes.Ok;
            }

            Console.Write(JobTable([reply.Value]));
            return ExitCodes.Ok;
        });
        return start;
    }

    private static Command Stop()
    {
        var api = new JobsApiOptions();
        var output = CommonOptions.Output();
        var name = new Argument<string>("NAME") { Description = "The job to stop: its tokens are revoked, then it is deleted" };
        var stop = new Command("stop", "Stop a job: revoke every token it holds, then delete it (stopping an unknown job is not an error)") { name, output };
        api.AddTo(stop);
        stop.SetAction(async (parse, ct) =>
        {
            using var client = api.Connect(parse);
            var reply = await client.StopAsync(parse.GetValue(name)!, ct);
            if (Json(parse, output, reply.Json))
            {
                return ExitCodes.Ok;
            }

            var stopped = reply.Value;
            Console.WriteLine(stopped.Known
                ? $"stopped {stopped.Name}: {stopped.Revoked} token(s) revoked"
                : $"{stopped.Name}: no such job, nothing to stop");
            return ExitCodes.Ok;
        });
        return stop;
    }

    private static Command List()
    {
        var api = new JobsApiOptions();
        var output = CommonOptions.Output();
        var list = new Command("list", "List the jobs the jobs-manager knows, with their state and current token") { output };
        api.AddTo(list);
        list.SetAction(async (parse, ct) =>
        {
            using var client = api.Connect(parse);
            var reply = await client.ListAsync(ct);
            if (Json(parse, output, reply.Json))
            {
                return ExitCodes.Ok;
            }

            if (reply.Value.Jobs.Count == 0)
            {
                Console.WriteLine("no jobs");
                return ExitCodes.Ok;
            }

            Console.Write(JobTable(reply.Value.Jobs.OrderBy(j => j.Name, StringComparer.Ordinal)));
            return ExitCodes.Ok;
        });
        return list;
    }

    private static string JobTable(IEnumerable<JobResponse> jobs)
    {
        var table = new TextTable("NAME", "STATE", "CREATED", "KID", "TOKEN EXPIRES", "TOKENS", "SCOPE");
        foreach (var job in jobs)
        {
            table.Add(
                job.Name,
                job.State,
                Format(job.CreatedAt),
                job.Token?.Kid ?? "-",
                job.Token?.ExpiresAt is { } expires ? Format(expires) : "-",
                job.TokensIssued.ToString(CultureInfo.InvariantCulture),
                job.Scope ?? "-");
        }

        return table.ToString();
    }

    /// <summary>With <c>--output json</c>, prints the API's own body (indented) and returns true.</summary>
    private static bool Json(ParseResult parse, Option<string> output, string body)
    {
        if (parse.GetValue(output) != CommonOptions.Json)
        {
            return false;
        }

        Console.WriteLine(JsonNode.Parse(body)?.ToJsonString(Indented) ?? "null");
        return true;
    }

    private static Dictionary<string, string>? Environment(string[]? pairs)
    {
        if (pairs is not { Length: > 0 })
        {
            return null;
        }

        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"--env takes NAME=VALUE, not '{pair}'");
            }

            env[pair[..equals]] = pair[(equals + 1)..];
        }

        return env;
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}

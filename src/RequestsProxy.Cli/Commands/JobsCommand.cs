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
        var name = new Argument<string?>("NAME")
        {
            Description = "The job's name (lowercase letters, digits and '-'); with --job it may be left out (the manifest's metadata.name)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Argument<string[]>("COMMAND")
        {
            Description = "The command to run (put it after --, e.g. -- python train.py --epochs 3)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var image = new Option<string>("--image") { Description = "Container image (Kubernetes runtime)" };
        var args = new Option<string[]>("--arg") { Description = "An argument for the image's entrypoint, without a COMMAND (repeatable)" };
        var scope = new Option<string>("--scope") { Description = "Scopes of the job's token, space-separated (default: the jobs-manager's)" };
        var env = new Option<string[]>("--env", "-e") { Description = "NAME=VALUE for the job's environment (repeatable)" };
        var job = new Option<string>("--job") { Description = "A batch/v1 Job manifest (or only its spec), JSON or YAML; - reads standard input" };
        var template = new Option<string>("--template") { Description = "A pod template ({metadata, spec}), JSON or YAML; - reads standard input. The Job fields are the options below" };
        var parallelism = new Option<int?>("--parallelism") { Description = "With --template: pods running at once" };
        var completions = new Option<int?>("--completions") { Description = "With --template: successful pods needed" };
        var completionMode = new Option<string>("--completion-mode") { Description = "With --template: NonIndexed or Indexed" };
        var backoffLimit = new Option<int?>("--backoff-limit") { Description = "With --template: retries before the Job fails (default 0)" };
        var deadline = new Option<long?>("--active-deadline-seconds") { Description = "With --template: the Job's deadline in seconds" };
        var ttl = new Option<int?>("--ttl-seconds-after-finished") { Description = "With --template: the Job's ttlSecondsAfterFinished" };
        var ns = new Option<string>("--namespace", "-n")
        {
            Description = "Kubernetes: the job namespace to run in, one of the jobs-manager's (JOBS_MANAGER_JOB_NAMESPACES; default the first); with --job it must match metadata.namespace if both are given",
        };
        var start = new Command("start", "Start a job: the jobs-manager mints its token and launches it (the simple form, a Job manifest with --job, or a pod template with --template)")
        {
            name, command, image, args, scope, env, job, template, parallelism, completions, completionMode, backoffLimit, deadline, ttl, ns, output,
        };
        api.AddTo(start);
        start.Validators.Add(result =>
        {
            if (result.GetValue(job) is not null && result.GetValue(template) is not null)
            {
                result.AddError("give --job or --template, not both");
            }
            else if (result.GetValue(job) is null && string.IsNullOrEmpty(result.GetValue(name)))
            {
                result.AddError("NAME is required (it may be left out only with --job, whose metadata.name names the job)");
            }
        });
        start.SetAction(async (parse, ct) =>
        {
            var body = new StartJobRequest(
                parse.GetValue(name) is { Length: > 0 } n ? n : null,
                parse.GetValue(image),
                parse.GetValue(command) is { Length: > 0 } c ? c : null,
                parse.GetValue(args) is { Length: > 0 } a ? a : null,
                parse.GetValue(scope),
                Environment(parse.GetValue(env)),
                Job: parse.GetValue(job) is { } jobFile ? Element(WorkloadFile.Read(jobFile, "--job", Console.In)) : null,
                Template: parse.GetValue(template) is { } templateFile ? Element(PodTemplate(WorkloadFile.Read(templateFile, "--template", Console.In), templateFile)) : null,
                Parallelism: parse.GetValue(parallelism),
                Completions: parse.GetValue(completions),
                CompletionMode: parse.GetValue(completionMode),
                BackoffLimit: parse.GetValue(backoffLimit),
                ActiveDeadlineSeconds: parse.GetValue(deadline),
                TtlSecondsAfterFinished: parse.GetValue(ttl),
                Namespace: parse.GetValue(ns));
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

    /// <summary>A whole Job manifest given to --template is a mistake worth naming before the API refuses its fields one by one.</summary>
    private static JsonObject PodTemplate(JsonObject template, string file) =>
        template["kind"] is JsonValue kind && kind.TryGetValue<string>(out var k)
            ? throw new CliException($"--template {file} is a {k} manifest: --template takes a pod template ({{metadata, spec}}); give a Job manifest with --job")
            : template;

    private static JsonElement Element(JsonObject node)
    {
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
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
        var table = new TextTable("NAME", "STATE", "NAMESPACE", "CREATED", "KID", "TOKEN EXPIRES", "TOKENS", "SCOPE");
        foreach (var job in jobs)
        {
            table.Add(
                job.Name,
                job.State,
                job.Namespace ?? "-",
                Format(job.CreatedAt),
                job.Token?.Kid ?? "-",
                job.Token?.ExpiresAt is { } expires ? Format(expires) : "-",
                job.TokensIssued.ToString(CultureInfo.InvariantCulture),
                job.Scope ?? "-");
        }

        // What the operator must act on (a labelled Job refused a token, a job out of reach), below the table: too long for a column.
        var problems = string.Concat(jobs.Where(j => j.Problem is { Length: > 0 }).Select(j => $"{j.Name} ({j.State}): {j.Problem}\n"));
        return problems.Length == 0 ? table.ToString() : $"{table}\n{problems}";
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

using System.Text.RegularExpressions;
using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Api;

/// <summary>
/// Turns a start request into a <see cref="JobSpec"/>, collecting every problem instead of
/// stopping at the first (the client fixes its request in one round trip).
/// </summary>
internal static partial class StartJobRequestValidator
{
    /// <summary>
    /// A DNS-1123 label, short enough that the Job's pods (name + 6 characters) and the token
    /// Secret (name + "-requests-proxy-token") stay valid names.
    /// </summary>
    public const int MaxNameLength = 52;

    private const int MaxItems = 256;
    private const int MaxItemLength = 8192;

    public static (JobSpec? Spec, IReadOnlyList<string> Errors) Validate(StartJobRequest? request, string defaultScope) =>
        Validate(request, defaultScope, null, PodPolicy.Strict);

    /// <param name="namespaces">
    /// The job namespaces (the request's <c>namespace</c> or the manifest's must be one of them; the
    /// first is the default); null: the runtime has no namespaces and the field is ignored.
    /// </param>
    /// <param name="ownNamespace">The jobs-manager's own (release) namespace, whose Secrets a job may not read; null: no namespaces (Local).</param>
    public static (JobSpec? Spec, IReadOnlyList<string> Errors) Validate(StartJobRequest? request, string defaultScope, IReadOnlyList<string>? namespaces, PodPolicy policy, string? ownNamespace = null)
    {
        var errors = new List<string>();
        if (request is null)
        {
            return (null, ["the body must be a JSON object"]);
        }

        var name = request.Name;
        var ns = request.Namespace;
        JobTemplate? template = null;
        if (JobTemplateReader.HasWorkload(request))
        {
            foreach (var (field, given) in new[] { ("image", request.Image is not null), ("command", request.Command is not null), ("args", request.Args is not null), ("env", request.Env is not null) })
            {
                if (given)
                {
                    errors.Add($"'{field}' belongs in the template's containers when '{(request.Job is not null ? "job" : "template")}' is given");
                }
            }

            template = JobTemplateReader.Read(request, ref name, ref ns, errors);
            if (template is not null)
            {
                JobTemplateValidator.ValidateJobLabels(template.Labels, errors);
                JobTemplateValidator.Validate(template.Spec, JobPath(request), policy, errors);
            }
        }
        else
        {
            JobTemplateReader.Read(request, ref name, ref ns, errors);
        }

        if (string.IsNullOrEmpty(name))
        {
            errors.Add(template is null && request.Job is null ? "'name' is required" : "'name' is required (or the manifest's metadata.name)");
        }
        else if (!IsJobName(name))
        {
            errors.Add($"'name' {NameRule}");
        }

        if (namespaces is null)
        {
            ns = null;
        }
        else if (ns is null)
        {
            ns = namespaces.Count > 0 ? namespaces[0] : null;
        }
        else if (!namespaces.Contains(ns, StringComparer.Ordinal))
        {
            var field = request.Namespace is null ? "job.metadata.namespace" : "namespace";
            errors.Add($"'{field}' is '{ns}', not a job namespace of this jobs-manager (it runs jobs in {string.Join(", ", namespaces.Select(n => $"'{n}'"))})");
        }

        if (template is not null)
        {
            // After the namespace is known: the Secrets of the jobs-manager's own namespace are not a job's.
            JobTemplateValidator.ValidateSecretReferences(template.Spec, JobPath(request), ownNamespace is not null && (ns ?? ownNamespace) == ownNamespace, errors);
        }

        if (request.Image is { } image && (image.Length == 0 || image.Length > 1024 || image.Any(char.IsWhiteSpace)))
        {
            errors.Add("'image' must be a non-empty image reference without spaces");
        }

        CheckList(request.Command, "command", errors);
        CheckList(request.Args, "args", errors);

        var scope = defaultScope;
        if (request.Scope is { } requested)
        {
            var parts = requested.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || parts.Any(p => !ScopeTokenPattern().IsMatch(p)))
            {
                errors.Add("'scope' must be space-separated scope tokens (RFC 6749 §3.3), e.g. \"results:write flops:write\"");
            }
            else
            {
                scope = string.Join(' ', parts);
            }
        }

        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (variable, value) in request.Env ?? new Dictionary<string, string>())
        {
            if (!EnvNamePattern().IsMatch(variable))
            {
                errors.Add($"'env' name '{variable}' must match [A-Za-z_][A-Za-z0-9_]*");
            }
            else if (JobEnvironment.IsReserved(variable))
            {
                errors.Add($"'env' name '{variable}' is reserved: the jobs-manager sets REQUESTS_PROXY_* itself");
            }
            else if (value is null || value.Length > MaxItemLength)
            {
                errors.Add($"'env' value of '{variable}' must be a string of at most {MaxItemLength} characters");
            }
            else
            {
                env[variable] = value;
            }
        }

        if (env.Count > MaxItems)
        {
            errors.Add($"'env' may hold at most {MaxItems} variables");
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        if (template is not null)
        {
            // What the API lists and the ledger keeps: the first container (the local runtime runs it).
            var first = template.Spec.Template.Spec.Containers[0];
            var firstEnv = (first.Env ?? []).Where(e => e.Name is not null && e.ValueFrom is null)
                .GroupBy(e => e.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value ?? "", StringComparer.Ordinal);
            return (new JobSpec(name!, first.Image, [.. first.Command ?? []], [.. first.Args ?? []], scope, firstEnv, template, ns), errors);
        }

        return (new JobSpec(name!, request.Image, request.Command ?? [], request.Args ?? [], scope, env, Namespace: ns), errors);
    }

    /// <summary>Where the Job spec's fields are in the request ("job.spec", "job", or "" beside "template").</summary>
    private static string JobPath(StartJobRequest request) =>
        request.Job is null ? "" : request.Job.Value.TryGetProperty("spec", out _) ? "job.spec" : "job";

    private static void CheckList(IReadOnlyList<string>? items, string field, List<string> errors)
    {
        if (items is null)
        {
            return;
        }

        if (items.Count > MaxItems)
        {
            errors.Add($"'{field}' may hold at most {MaxItems} items");
        }

        if (items.Any(i => i is null || i.Length > MaxItemLength || i.Contains('\0', StringComparison.Ordinal)))
        {
            errors.Add($"'{field}' items must be strings of at most {MaxItemLength} characters without NUL");
        }

        if (field == "command" && items.Count > 0 && string.IsNullOrEmpty(items[0]))
        {
            errors.Add("'command' must start with a program name");
        }
    }

    public static string NameRule => $"must be lowercase letters, digits and '-', start and end with a letter or digit, at most {MaxNameLength} characters";

    /// <summary>Whether <paramref name="name"/> could name a job (every started job's name passed this).</summary>
    public static bool IsJobName(string name) => name.Length <= MaxNameLength && NamePattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvNamePattern();

    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]+$", RegexOptions.CultureInvariant)]
    private static partial Regex ScopeTokenPattern();
}

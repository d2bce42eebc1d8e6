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

    public static (JobSpec? Spec, IReadOnlyList<string> Errors) Validate(StartJobRequest? request, string defaultScope)
    {
        var errors = new List<string>();
        if (request is null)
        {
            return (null, ["the body must be a JSON object"]);
        }

        if (string.IsNullOrEmpty(request.Name))
        {
            errors.Add("'name' is required");
        }
        else if (!IsJobName(request.Name))
        {
            errors.Add($"'name' {NameRule}");
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
        foreach (var (name, value) in request.Env ?? new Dictionary<string, string>())
        {
            if (!EnvNamePattern().IsMatch(name))
            {
                errors.Add($"'env' name '{name}' must match [A-Za-z_][A-Za-z0-9_]*");
            }
            else if (JobEnvironment.IsReserved(name))
            {
                errors.Add($"'env' name '{name}' is reserved: the jobs-manager sets REQUESTS_PROXY_* itself");
            }
            else if (value is null || value.Length > MaxItemLength)
            {
                errors.Add($"'env' value of '{name}' must be a string of at most {MaxItemLength} characters");
            }
            else
            {
                env[name] = value;
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

        return (new JobSpec(request.Name!, request.Image, request.Command ?? [], request.Args ?? [], scope, env), errors);
    }

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

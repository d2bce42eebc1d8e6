using System.CommandLine;
using RequestsProxy.JobsApi;

namespace RequestsProxy.Cli.Commands;

/// <summary>
/// Where the jobs-manager is and how to authenticate: <c>--jobs-manager URL</c> (else
/// <c>RPCTL_JOBS_MANAGER_URL</c>) and <c>--admin-token-file FILE</c> (else <c>RPCTL_ADMIN_TOKEN</c>,
/// the token itself — handy with <c>export RPCTL_ADMIN_TOKEN=$(kubectl get secret …)</c>).
/// </summary>
internal sealed class JobsApiOptions
{
    public const string UrlVariable = "RPCTL_JOBS_MANAGER_URL";
    public const string TokenVariable = "RPCTL_ADMIN_TOKEN";

    public Option<string> Url { get; } = new("--jobs-manager")
    {
        Description = $"The jobs-manager's base URL, e.g. http://localhost:8080 after a port-forward (default: ${UrlVariable})",
    };

    public Option<string> TokenFile { get; } = new("--admin-token-file")
    {
        Description = $"File holding the jobs-manager's admin token (default: the token in ${TokenVariable})",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(TokenFile);
    }

    /// <summary>True when a jobs-manager URL was given by flag or environment.</summary>
    public bool IsGiven(ParseResult parse) => UrlText(parse) is not null;

    /// <summary>A client, or a usage error saying what is missing.</summary>
    public JobsApiClient Connect(ParseResult parse)
    {
        var text = UrlText(parse) ?? throw new CliException($"no jobs-manager: pass --jobs-manager URL or set {UrlVariable}");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"the jobs-manager URL must be an absolute http(s) URL, not '{text}'");
        }

        return new JobsApiClient(url, Token(parse), Actor());
    }

    // Who runs rpctl, for the jobs-manager's audit trail (printable ASCII only: it is a header value).
    private static string Actor()
    {
        var actor = $"{Environment.UserName}@{Environment.MachineName}";
        return new string([.. actor.Where(c => c is > ' ' and < (char)0x7f)]);
    }

    private string? UrlText(ParseResult parse) =>
        parse.GetValue(Url) is { Length: > 0 } flag ? flag : Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } env ? env.Trim() : null;

    private string Token(ParseResult parse)
    {
        string token;
        if (parse.GetValue(TokenFile) is { Length: > 0 } file)
        {
            // IOException and UnauthorizedAccessException become exit 2 in Program, with the path in the message.
            token = File.ReadAllText(file).Trim();
            if (token.Length == 0)
            {
                throw new CliException($"the admin token file '{file}' is empty");
            }
        }
        else
        {
            token = Environment.GetEnvironmentVariable(TokenVariable)?.Trim() ?? string.Empty;
            if (token.Length == 0)
            {
                throw new CliException($"no admin token: pass --admin-token-file FILE or set {TokenVariable}");
            }
        }

        // A header value cannot hold line breaks or control characters; say so instead of failing deep in HttpClient.
        return token.Any(char.IsControl) ? throw new CliException("the admin token contains control characters") : token;
    }
}

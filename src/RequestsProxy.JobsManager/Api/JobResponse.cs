using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Api;

/// <summary>One job in API responses.</summary>
internal sealed record JobResponse(
    string Name,
    string State,
    string? Image,
    IReadOnlyList<string> Command,
    string Scope,
    DateTimeOffset CreatedAt,
    TokenResponse? Token,
    int TokensIssued,
    string? TokenFile,
    bool TokensRevoked)
{
    public static JobResponse From(JobView view) => new(
        view.Name,
        ApiText.State(view.State),
        view.Image,
        view.Command,
        view.Scope,
        view.CreatedAt,
        view.Token is { } t ? new TokenResponse(t.Jti, t.Kid, t.IssuedAt, t.ExpiresAt) : null,
        view.TokensIssued,
        view.TokenFile,
        view.TokensRevoked);
}

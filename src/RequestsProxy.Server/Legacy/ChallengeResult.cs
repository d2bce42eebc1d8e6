using RequestsProxy.Server.Authentication;

namespace RequestsProxy.Server.Legacy;

/// <summary>401 for the admin endpoints, in the same RFC 6750 form as the proxied routes.</summary>
internal sealed class ChallengeResult : IResult
{
    public Task ExecuteAsync(HttpContext httpContext) =>
        BearerChallenge.WriteUnauthorizedAsync(httpContext, "invalid_admin_token");
}

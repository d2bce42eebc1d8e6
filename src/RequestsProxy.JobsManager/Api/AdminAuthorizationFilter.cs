using Microsoft.Net.Http.Headers;
using RequestsProxy.JobsManager.Audit;

namespace RequestsProxy.JobsManager.Api;

/// <summary>
/// Every /v1 call needs <c>Authorization: Bearer &lt;admin token&gt;</c>. Answers in the API's JSON
/// error shape with an RFC 6750 challenge. Names the caller for the audit trail while the call runs,
/// and writes refused calls to it.
/// </summary>
internal sealed class AdminAuthorizationFilter(AdminTokenProvider adminToken, JobAudit audit) : IEndpointFilter
{
    private const string Scheme = "Bearer ";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!adminToken.IsConfigured)
        {
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, "not_ready", $"the admin token file '{adminToken.Path}' is missing or empty");
        }

        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"jobs-manager\"";
            audit.Refused(AuditCaller.Describe(http), http.Request.Path, "no bearer token");
            return ApiResults.Error(StatusCodes.Status401Unauthorized, "unauthorized", "an admin bearer token is required");
        }

        if (!adminToken.Matches(header.AsSpan(Scheme.Length).Trim()))
        {
            http.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"jobs-manager\", error=\"invalid_token\"";
            audit.Refused(AuditCaller.Describe(http), http.Request.Path, "not the admin token");
            return ApiResults.Error(StatusCodes.Status401Unauthorized, "invalid_token", "the bearer token is not the admin token");
        }

        using (AuditCaller.Begin(AuditCaller.Describe(http)))
        {
            return await next(context).ConfigureAwait(false);
        }
    }
}

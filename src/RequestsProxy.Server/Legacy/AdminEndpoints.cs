using System.Text.Json;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;

namespace RequestsProxy.Server.Legacy;

/// <summary>
/// <c>POST /admin/v1/tokens</c> and <c>DELETE /admin/v1/subjects/{sub}</c> (docs/architecture.md).
/// Mapped in both modes so that, in stateless mode, they answer 404 here instead of being
/// relayed upstream by a catch-all route.
/// </summary>
internal static class AdminEndpoints
{
    private const int MaxRegistrationBytes = 16 * 1024;

    public static void Map(WebApplication app, ProxySettings settings)
    {
        app.MapPost("/admin/v1/tokens", (HttpContext context, LegacyTokenRegistry registry, AdminToken admin, ILogger<LegacyTokenRegistry> logger) =>
            settings.Stateless ? Task.FromResult(Disabled()) : RegisterAsync(context, registry, admin, logger));

        app.MapDelete("/admin/v1/subjects/{sub}", (HttpContext context, string sub, LegacyTokenRegistry registry, AdminToken admin, ILogger<LegacyTokenRegistry> logger) =>
        {
            if (settings.Stateless)
            {
                return Disabled();
            }

            if (Authorize(context, admin, logger) is { } refused)
            {
                return refused;
            }

            var removed = registry.Forget(sub);
            Log.LegacyForgotten(logger, sub, removed);
            return Results.Ok(new LegacyForgetResult(sub, removed));
        });
    }

    private static async Task<IResult> RegisterAsync(HttpContext context, LegacyTokenRegistry registry, AdminToken admin, ILogger logger)
    {
        if (Authorize(context, admin, logger) is { } refused)
        {
            return refused;
        }

        if (context.Request.ContentLength > MaxRegistrationBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "the registration is too large");
        }

        string? token = null, sub = null, scope = null;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Problem(StatusCodes.Status400BadRequest, "expected a JSON object {\"token\",\"sub\",\"scope\"}");
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                var value = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                switch (property.Name)
                {
                    case "token": token = value; break;
                    case "sub": sub = value; break;
                    case "scope": scope = value; break;
                    default: break;
                }
            }
        }
        catch (JsonException)
        {
            return Problem(StatusCodes.Status400BadRequest, "the body is not valid JSON");
        }
        catch (InvalidOperationException)
        {
            // A \uD800-style escape with no partner: no UTF-8 form, so no injective subject header either.
            return Problem(StatusCodes.Status400BadRequest, "strings must be well-formed Unicode (no lone surrogate escapes)");
        }

        if (string.IsNullOrEmpty(token) || token.Length > Tokens.Jwt.TokenDefaults.MaxTokenLength || token.Any(c => c is <= ' ' or > '~'))
        {
            return Problem(StatusCodes.Status400BadRequest, "\"token\" must be 1–4096 printable ASCII characters without spaces");
        }

        if (string.IsNullOrWhiteSpace(sub))
        {
            return Problem(StatusCodes.Status400BadRequest, "\"sub\" is required");
        }

        scope ??= "";
        registry.Register(token, sub, scope);
        Log.LegacyRegistered(logger, sub, scope);
        return Results.Json(new LegacyRegistration(sub, scope), statusCode: StatusCodes.Status201Created);
    }

    private static IResult? Authorize(HttpContext context, AdminToken admin, ILogger logger)
    {
        if (!BearerToken.TryRead(context.Request, out var presented) || presented.Length == 0)
        {
            Log.AdminRefused(logger, AuthReasons.MissingToken);
            return AdminChallenge();
        }

        switch (admin.Check(presented.ToString()))
        {
            case AdminCheck.Allowed:
                return null;
            case AdminCheck.NotConfigured:
                Log.AdminRefused(logger, "admin token file missing or empty");
                return Problem(StatusCodes.Status503ServiceUnavailable, "the admin token is not configured");
            default:
                Log.AdminRefused(logger, "wrong admin token");
                return AdminChallenge();
        }
    }

    private static IResult AdminChallenge() => new ChallengeResult();

    private static IResult Disabled() =>
        Problem(StatusCodes.Status404NotFound, $"legacy registration is disabled ({EnvironmentVariables.Stateless}=true)");

    private static IResult Problem(int status, string detail) =>
        Results.Json(new Dictionary<string, string> { ["error"] = detail }, statusCode: status);
}

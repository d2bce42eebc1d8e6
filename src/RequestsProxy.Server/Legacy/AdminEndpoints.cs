using System.Text.Json;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Server.Legacy;

/// <summary>
/// <c>POST /admin/v1/tokens</c>, <c>POST /admin/v1/sync</c>, <c>DELETE /admin/v1/tokens/{digest}</c> and
/// <c>DELETE /admin/v1/subjects/{sub}</c> (docs/architecture.md).
/// Mapped in both modes so that, in stateless mode, they answer 404 here instead of being
/// relayed upstream by a catch-all route.
/// </summary>
internal static class AdminEndpoints
{
    private const int MaxRegistrationBytes = 16 * 1024;

    // A few thousand young registrations: far more jobs than start within one legacy grace.
    private const int MaxSyncBytes = 4 * 1024 * 1024;

    public static void Map(WebApplication app, ProxySettings settings)
    {
        app.MapPost("/admin/v1/tokens", (HttpContext context, LegacyTokenRegistry registry, AdminToken admin, ILogger<LegacyTokenRegistry> logger) =>
            settings.Stateless ? Task.FromResult(Disabled()) : RegisterAsync(context, registry, admin, logger));

        // A legacy jobs-manager pushes every registration still young enough to matter; then this replica may become ready.
        app.MapPost("/admin/v1/sync", (HttpContext context, LegacyTokenRegistry registry, AdminToken admin, ILogger<LegacyTokenRegistry> logger) =>
            settings.Stateless ? Task.FromResult(Disabled()) : SyncAsync(context, registry, admin, logger));

        // A registration the jobs-manager gave up on (another replica refused it): that one token, by its digest.
        app.MapDelete("/admin/v1/tokens/{digest}", (HttpContext context, string digest, LegacyTokenRegistry registry, AdminToken admin, ILogger<LegacyTokenRegistry> logger) =>
        {
            if (settings.Stateless)
            {
                return Disabled();
            }

            if (Authorize(context, admin, logger) is { } refused)
            {
                return refused;
            }

            if (!LegacyTokenDigest.IsValid(digest))
            {
                return Problem(StatusCodes.Status400BadRequest, $"a digest is {LegacyTokenDigest.Length} base64url characters");
            }

            var removed = registry.ForgetDigest(digest);
            Log.LegacyDigestForgotten(logger, digest, removed);
            return Results.Ok(new { digest, removed = removed ? 1 : 0 });
        });

        app.MapDelete("/admin/v1/subjects/{sub}", (HttpContext context, string sub, LegacyTokenRegistry registry, TokenSources sources, AdminToken admin, ILogger<LegacyTokenRegistry> logger) =>
        {
            if (settings.Stateless)
            {
                return Disabled();
            }

            if (Authorize(context, admin, logger) is { } refused)
            {
                return refused;
            }

            // The job's entries in the mounted list stay until the jobs-manager's removal reaches this pod: refuse them now.
            var removed = registry.Forget(sub, sources.LegacyTokens.Current.OfSubject(sub).Select(e => e.Digest));
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

        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            if (ReadRegistration(document.RootElement, out var token, out var sub, out var scope) is { } invalid)
            {
                return Problem(StatusCodes.Status400BadRequest, invalid);
            }

            if (registry.Register(token, sub, scope))
            {
                Log.LegacyRegistered(logger, sub, scope);
            }

            return Results.Json(new LegacyRegistration(sub, scope), statusCode: StatusCodes.Status201Created);
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
    }

    /// <summary>
    /// <c>{"registrations":[{"token","sub","scope"},…]}</c>: registers each (a repeat is silent), then
    /// marks this replica synced. All or nothing: one invalid element refuses the whole body.
    /// </summary>
    private static async Task<IResult> SyncAsync(HttpContext context, LegacyTokenRegistry registry, AdminToken admin, ILogger logger)
    {
        if (Authorize(context, admin, logger) is { } refused)
        {
            return refused;
        }

        if (context.Request.ContentLength > MaxSyncBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"the sync is larger than {MaxSyncBytes} bytes");
        }

        var registrations = new List<(string Token, string Sub, string Scope)>();
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("registrations", out var array) || array.ValueKind != JsonValueKind.Array)
            {
                return Problem(StatusCodes.Status400BadRequest, "expected a JSON object {\"registrations\":[{\"token\",\"sub\",\"scope\"},…]}");
            }

            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                if (ReadRegistration(element, out var token, out var sub, out var scope) is { } invalid)
                {
                    return Problem(StatusCodes.Status400BadRequest, $"registrations[{index}]: {invalid}");
                }

                registrations.Add((token, sub, scope));
                index++;
            }
        }
        catch (JsonException)
        {
            return Problem(StatusCodes.Status400BadRequest, "the body is not valid JSON");
        }
        catch (InvalidOperationException)
        {
            return Problem(StatusCodes.Status400BadRequest, "strings must be well-formed Unicode (no lone surrogate escapes)");
        }

        foreach (var (token, sub, scope) in registrations)
        {
            if (registry.Register(token, sub, scope))
            {
                Log.LegacyRegistered(logger, sub, scope);
            }
        }

        if (!registry.Synced)
        {
            Log.LegacySynced(logger, registry.Count);
        }

        registry.MarkSynced();
        return Results.Json(new Dictionary<string, int> { ["registrations"] = registrations.Count });
    }

    /// <summary>One <c>{"token","sub","scope"}</c> object; the reason it is not one, or null.</summary>
    private static string? ReadRegistration(JsonElement element, out string token, out string sub, out string scope)
    {
        string? t = null, su = null, sc = null;
        token = sub = scope = "";
        if (element.ValueKind != JsonValueKind.Object)
        {
            return "expected a JSON object {\"token\",\"sub\",\"scope\"}";
        }

        foreach (var property in element.EnumerateObject())
        {
            var value = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
            switch (property.Name)
            {
                case "token": t = value; break;
                case "sub": su = value; break;
                case "scope": sc = value; break;
                default: break;
            }
        }

        if (string.IsNullOrEmpty(t) || t.Length > Tokens.Jwt.TokenDefaults.MaxTokenLength || t.Any(c => c is <= ' ' or > '~'))
        {
            return "\"token\" must be 1–4096 printable ASCII characters without spaces";
        }

        if (string.IsNullOrWhiteSpace(su))
        {
            return "\"sub\" is required";
        }

        (token, sub, scope) = (t, su, sc ?? "");
        return null;
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

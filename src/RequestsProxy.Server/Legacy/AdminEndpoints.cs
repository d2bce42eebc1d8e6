using System.Text.Json;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Server.Legacy;

/// <summary>
/// <c>POST /admin/v1/tokens</c>, <c>POST /admin/v1/sync</c>, <c>DELETE /admin/v1/tokens/{digest}</c> and
/// <c>DELETE /admin/v1/subjects/{sub}</c> (docs/architecture.md, docs/proxy.md), each behind
/// <see cref="AdminGate"/>. A registration names its token by digest (this version's jobs-manager) or,
/// from an older jobs-manager on the bearer compatibility path only, by the token itself.
/// Mapped in both modes so that, in stateless mode, they answer 404 here instead of being
/// relayed upstream by a catch-all route.
/// </summary>
internal static class AdminEndpoints
{
    private const int MaxRegistrationBytes = 16 * 1024;

    // A few thousand young registrations: far more jobs than start within one legacy grace.
    private const int MaxSyncBytes = 4 * 1024 * 1024;

    // A DELETE has no body; a few bytes of slack for a client that sends "{}".
    private const int MaxForgetBytes = 1024;

    public static void Map(WebApplication app, ProxySettings settings)
    {
        app.MapPost("/admin/v1/tokens", (HttpContext context, LegacyTokenRegistry registry, AdminGate gate, ILogger<LegacyTokenRegistry> logger) =>
            settings.Stateless ? Task.FromResult(AdminResults.Disabled()) : RegisterAsync(context, registry, gate, logger));

        // A legacy jobs-manager pushes every registration still young enough to matter; then this replica may become ready.
        app.MapPost("/admin/v1/sync", (HttpContext context, LegacyTokenRegistry registry, AdminGate gate, ILogger<LegacyTokenRegistry> logger) =>
            settings.Stateless ? Task.FromResult(AdminResults.Disabled()) : SyncAsync(context, registry, gate, logger));

        // A registration the jobs-manager gave up on (another replica refused it): that one token, by its digest.
        app.MapDelete("/admin/v1/tokens/{digest}", async (HttpContext context, string digest, LegacyTokenRegistry registry, AdminGate gate, ILogger<LegacyTokenRegistry> logger) =>
        {
            if (settings.Stateless)
            {
                return AdminResults.Disabled();
            }

            if ((await gate.AuthorizeAsync(context, MaxForgetBytes)).Refusal is { } refused)
            {
                return refused;
            }

            if (!LegacyTokenDigest.IsValid(digest))
            {
                return AdminResults.Problem(StatusCodes.Status400BadRequest, $"a digest is {LegacyTokenDigest.Length} base64url characters");
            }

            var removed = registry.ForgetDigest(digest);
            Log.LegacyDigestForgotten(logger, digest, removed);
            return Results.Ok(new { digest, removed = removed ? 1 : 0 });
        });

        app.MapDelete("/admin/v1/subjects/{sub}", async (HttpContext context, string sub, LegacyTokenRegistry registry, TokenSources sources, AdminGate gate, ILogger<LegacyTokenRegistry> logger) =>
        {
            if (settings.Stateless)
            {
                return AdminResults.Disabled();
            }

            if ((await gate.AuthorizeAsync(context, MaxForgetBytes)).Refusal is { } refused)
            {
                return refused;
            }

            // The job's entries in the mounted list stay until the jobs-manager's removal reaches this pod: refuse them now.
            var removed = registry.Forget(sub, sources.LegacyTokens.Current.OfSubject(sub).Select(e => e.Digest));
            Log.LegacyForgotten(logger, sub, removed);
            return Results.Ok(new LegacyForgetResult(sub, removed));
        });
    }

    private static async Task<IResult> RegisterAsync(HttpContext context, LegacyTokenRegistry registry, AdminGate gate, ILogger logger)
    {
        var (request, refused) = await gate.AuthorizeAsync(context, MaxRegistrationBytes);
        if (refused is not null)
        {
            return refused;
        }

        try
        {
            using var document = JsonDocument.Parse(request!.Body);
            if (ReadRegistration(document.RootElement, request.Caller, out var digest, out var sub, out var scope) is { } invalid)
            {
                return AdminResults.Problem(StatusCodes.Status400BadRequest, invalid);
            }

            if (registry.RegisterDigest(digest, sub, scope))
            {
                Log.LegacyRegistered(logger, sub, scope);
            }

            return Results.Json(new LegacyRegistration(sub, scope), statusCode: StatusCodes.Status201Created);
        }
        catch (JsonException)
        {
            return AdminResults.Problem(StatusCodes.Status400BadRequest, "the body is not valid JSON");
        }
        catch (InvalidOperationException)
        {
            // A \uD800-style escape with no partner: no UTF-8 form, so no injective subject header either.
            return AdminResults.Problem(StatusCodes.Status400BadRequest, "strings must be well-formed Unicode (no lone surrogate escapes)");
        }
    }

    /// <summary>
    /// <c>{"registrations":[{"digest","sub","scope"},…],"forgotten":["digest",…]}</c>: registers each (a repeat is
    /// silent), refuses every forgotten digest from now on (the jobs-manager's recent ends; optional, absent from an
    /// older jobs-manager), then marks this replica synced. All or nothing: one invalid element refuses the whole body.
    /// </summary>
    private static async Task<IResult> SyncAsync(HttpContext context, LegacyTokenRegistry registry, AdminGate gate, ILogger logger)
    {
        var (request, refused) = await gate.AuthorizeAsync(context, MaxSyncBytes);
        if (refused is not null)
        {
            return refused;
        }

        var registrations = new List<(string Digest, string Sub, string Scope)>();
        var forgotten = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(request!.Body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("registrations", out var array) || array.ValueKind != JsonValueKind.Array)
            {
                return AdminResults.Problem(StatusCodes.Status400BadRequest, "expected a JSON object {\"registrations\":[{\"digest\",\"sub\",\"scope\"},…]}");
            }

            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                if (ReadRegistration(element, request.Caller, out var digest, out var sub, out var scope) is { } invalid)
                {
                    return AdminResults.Problem(StatusCodes.Status400BadRequest, $"registrations[{index}]: {invalid}");
                }

                registrations.Add((digest, sub, scope));
                index++;
            }

            if (document.RootElement.TryGetProperty("forgotten", out var ended))
            {
                if (ended.ValueKind != JsonValueKind.Array)
                {
                    return AdminResults.Problem(StatusCodes.Status400BadRequest, "\"forgotten\" must be an array of digests");
                }

                index = 0;
                foreach (var element in ended.EnumerateArray())
                {
                    if (element.ValueKind != JsonValueKind.String || element.GetString() is not { } digest || !LegacyTokenDigest.IsValid(digest))
                    {
                        return AdminResults.Problem(StatusCodes.Status400BadRequest, $"forgotten[{index}]: a digest is {LegacyTokenDigest.Length} base64url characters");
                    }

                    forgotten.Add(digest);
                    index++;
                }
            }
        }
        catch (JsonException)
        {
            return AdminResults.Problem(StatusCodes.Status400BadRequest, "the body is not valid JSON");
        }
        catch (InvalidOperationException)
        {
            return AdminResults.Problem(StatusCodes.Status400BadRequest, "strings must be well-formed Unicode (no lone surrogate escapes)");
        }

        foreach (var (digest, sub, scope) in registrations)
        {
            if (registry.RegisterDigest(digest, sub, scope))
            {
                Log.LegacyRegistered(logger, sub, scope);
            }
        }

        // After the registrations: an ended token stays refused even if a registration of it came along.
        registry.ForgetEnded(forgotten);
        if (!registry.Synced)
        {
            Log.LegacySynced(logger, registry.Count);
        }

        registry.MarkSynced();
        return Results.Json(new Dictionary<string, int> { ["registrations"] = registrations.Count });
    }

    /// <summary>
    /// One <c>{"digest","sub","scope"}</c> object — or <c>{"token","sub","scope"}</c> from an older
    /// jobs-manager, accepted only on the bearer path (a signed request never carries a token) —
    /// with the token's digest out; the reason it is not one, or null.
    /// </summary>
    private static string? ReadRegistration(JsonElement element, AdminCaller caller, out string digest, out string sub, out string scope)
    {
        string? t = null, d = null, su = null, sc = null;
        digest = sub = scope = "";
        if (element.ValueKind != JsonValueKind.Object)
        {
            return "expected a JSON object {\"digest\",\"sub\",\"scope\"}";
        }

        foreach (var property in element.EnumerateObject())
        {
            var value = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
            switch (property.Name)
            {
                case "token": t = value ?? ""; break;
                case "digest": d = value ?? ""; break;
                case "sub": su = value; break;
                case "scope": sc = value; break;
                default: break;
            }
        }

        if (t is not null && d is not null)
        {
            return "give \"digest\" or \"token\", not both";
        }

        if (t is not null)
        {
            if (caller == AdminCaller.Signed)
            {
                // This version never sends a token: a signed request carrying one is a client to fix, not to serve.
                return "a signed registration names its token by \"digest\" (base64url SHA-256), never by \"token\"";
            }

            if (t.Length == 0 || t.Length > Tokens.Jwt.TokenDefaults.MaxTokenLength || t.Any(c => c is <= ' ' or > '~'))
            {
                return "\"token\" must be 1–4096 printable ASCII characters without spaces";
            }

            d = LegacyTokenDigest.Compute(t);
        }
        else if (d is null || !LegacyTokenDigest.IsValid(d))
        {
            return $"\"digest\" must be the {LegacyTokenDigest.Length}-character base64url SHA-256 of the token";
        }

        if (string.IsNullOrWhiteSpace(su))
        {
            return "\"sub\" is required";
        }

        (digest, sub, scope) = (d, su, sc ?? "");
        return null;
    }
}

using RequestsProxy.Server.Authentication;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// DESIGN §15: the binding of a path parameter to <c>sub</c> holds for the path whichever route
/// matches. Every request a route accepted is checked against every bound pattern: a canonical
/// path (<see cref="CanonicalPath"/>: anything else was refused before) under one
/// (<see cref="BoundPattern"/>) must carry the caller's own <c>sub</c> there, exactly, a method one
/// of those patterns allows, and that pattern's scope.
/// Routes are read once, at start (the routes file is not reloaded).
/// </summary>
internal sealed class SubjectBindings(IProxyStateLookup routes)
{
    private BoundPattern[]? _patterns;

    public IReadOnlyList<BoundPattern> Patterns => _patterns ??= [.. routes.GetRoutes().Select(r => BoundPattern.From(r.Config)).OfType<BoundPattern>()];

    /// <param name="canonicalPath">The request's path as <see cref="CanonicalPath.Of"/> accepted it.</param>
    /// <param name="requiredScope">With <see cref="PathVerdict.MissingScope"/>: a scope that would have been enough.</param>
    /// <param name="allowedMethods">With <see cref="PathVerdict.MethodNotAllowed"/>: the methods the covering patterns allow.</param>
    /// <param name="limitingRoute">
    /// With <see cref="PathVerdict.Allowed"/>: the bound route whose limits the request spends — the
    /// matched route when it is one of the patterns that allow it, else the first such pattern's
    /// (so <c>//v1/jobs/job-1/results</c> through a catch-all spends the results route's share);
    /// null when no bound pattern covers the path.
    /// </param>
    public PathVerdict Check(string canonicalPath, string method, CallerIdentity caller, RouteConfig matched, out string? requiredScope, out IReadOnlyList<string>? allowedMethods, out RouteConfig? limitingRoute)
    {
        requiredScope = null;
        allowedMethods = null;
        limitingRoute = null;
        var patterns = (BoundPattern[])Patterns;
        if (patterns.Length == 0)
        {
            return PathVerdict.Allowed;
        }

        var covered = false;
        var methodAllowed = false;
        var scopeHeld = false;
        List<string>? methods = null;
        foreach (var pattern in patterns)
        {
            if (!pattern.Covers(canonicalPath, out var subject))
            {
                continue;
            }

            covered = true;
            if (!subject.SequenceEqual(caller.Subject))
            {
                return PathVerdict.SubjectMismatch;
            }

            if (!pattern.Allows(method))
            {
                (methods ??= []).AddRange(pattern.Methods!);
                continue;
            }

            methodAllowed = true;
            if (pattern.RequiredScope is not { } scope || caller.HasScope(scope))
            {
                scopeHeld = true;
                if (limitingRoute is null || pattern.RouteId == matched.RouteId)
                {
                    limitingRoute = pattern.Route;
                }
            }
            else
            {
                requiredScope ??= scope;
            }
        }

        if (!covered || scopeHeld)
        {
            requiredScope = null;
            return PathVerdict.Allowed;
        }

        if (!methodAllowed)
        {
            allowedMethods = methods!.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            return PathVerdict.MethodNotAllowed;
        }

        return PathVerdict.MissingScope;
    }
}

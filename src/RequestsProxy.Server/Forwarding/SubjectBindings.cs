using RequestsProxy.Server.Authentication;
using Yarp.ReverseProxy;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// DESIGN §15: the binding of a path parameter to <c>sub</c> holds for the path whichever route
/// matches. Every request a route accepted is checked against every bound pattern: a normalised
/// path under one (<see cref="PathNormalizer"/>, <see cref="BoundPattern"/>) must carry the
/// caller's own <c>sub</c> there, a method one of those patterns allows, and that pattern's scope.
/// Routes are read once, at start (the routes file is not reloaded).
/// </summary>
internal sealed class SubjectBindings(IProxyStateLookup routes)
{
    private BoundPattern[]? _patterns;

    public IReadOnlyList<BoundPattern> Patterns => _patterns ??= [.. routes.GetRoutes().Select(r => BoundPattern.From(r.Config)).OfType<BoundPattern>()];

    /// <param name="requiredScope">With <see cref="PathVerdict.MissingScope"/>: a scope that would have been enough.</param>
    /// <param name="allowedMethods">With <see cref="PathVerdict.MethodNotAllowed"/>: the methods the covering patterns allow.</param>
    public PathVerdict Check(string? path, string method, CallerIdentity caller, out string? requiredScope, out IReadOnlyList<string>? allowedMethods)
    {
        requiredScope = null;
        allowedMethods = null;
        var patterns = (BoundPattern[])Patterns;
        if (patterns.Length == 0)
        {
            return PathVerdict.Allowed;
        }

        var normalized = PathNormalizer.Normalize(path);
        var covered = false;
        var methodAllowed = false;
        var scopeHeld = false;
        List<string>? methods = null;
        foreach (var pattern in patterns)
        {
            if (!pattern.Covers(normalized, out var subject))
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

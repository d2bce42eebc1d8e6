using Microsoft.AspNetCore.Routing.Patterns;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// One route whose path binds a parameter to the token's <c>sub</c>, as a prefix of the segments of a
/// canonical path (<see cref="CanonicalPath"/>): literals compare case-insensitively and also match
/// with a format suffix (<c>results.json</c> is <c>results</c> to Rails' <c>(.:format)</c>, Spring's
/// suffix patterns, Django REST framework's <c>format_suffix_patterns</c>), any other parameter
/// matches any one segment, a catch-all matches the rest. A path covered by the prefix (extra
/// segments included) is the pattern's, whichever route matched it.
/// </summary>
internal sealed class BoundPattern
{
    private readonly string?[] _literals;
    private readonly int _subjectIndex;
    private readonly int _requiredSegments;
    private readonly string[]? _methods;

    private BoundPattern(RouteConfig route, string?[] literals, int subjectIndex, int requiredSegments, string[]? methods, string? requiredScope)
    {
        Route = route;
        _literals = literals;
        _subjectIndex = subjectIndex;
        _requiredSegments = requiredSegments;
        _methods = methods;
        RequiredScope = requiredScope;
    }

    /// <summary>The bound route: its per-job limits apply to every path under it, whichever route matched.</summary>
    public RouteConfig Route { get; }

    public string RouteId => Route.RouteId;

    /// <summary>Null: any valid token.</summary>
    public string? RequiredScope { get; }

    /// <summary>The route's methods; null: any.</summary>
    public IReadOnlyList<string>? Methods => _methods;

    /// <summary>The pattern of a route with a <c>SubjectParameter</c>; null for other routes (or a path RouteRules refuses).</summary>
    public static BoundPattern? From(RouteConfig route)
    {
        var subject = RouteRules.Get(route, RouteMetadataKeys.SubjectParameter)?.Trim();
        if (string.IsNullOrEmpty(subject) || route.Match.Path is not { } path)
        {
            return null;
        }

        var pattern = RoutePatternFactory.Parse(path);
        var literals = new List<string?>();
        var subjectIndex = -1;
        var required = 0;
        foreach (var segment in pattern.PathSegments)
        {
            if (segment.Parts is [RoutePatternParameterPart { IsCatchAll: true }])
            {
                break;
            }

            if (segment.Parts is [RoutePatternLiteralPart literal])
            {
                literals.Add(literal.Content);
            }
            else
            {
                if (segment.Parts is [RoutePatternParameterPart parameter] && string.Equals(parameter.Name, subject, StringComparison.OrdinalIgnoreCase))
                {
                    subjectIndex = literals.Count;
                }

                literals.Add(null);
            }

            if (!segment.Parts.All(p => p is RoutePatternParameterPart { IsOptional: true }))
            {
                required = literals.Count;
            }
        }

        if (subjectIndex < 0)
        {
            return null;
        }

        var scope = RouteRules.Get(route, RouteMetadataKeys.RequiredScope)?.Trim();
        var methods = route.Match.Methods is { Count: > 0 } m ? m.ToArray() : null;
        return new BoundPattern(route, [.. literals], subjectIndex, Math.Max(required, subjectIndex + 1), methods,
            string.IsNullOrEmpty(scope) ? null : scope);
    }

    /// <summary>True when <paramref name="canonicalPath"/> falls under this pattern; <paramref name="subject"/> is then the bound segment.</summary>
    public bool Covers(ReadOnlySpan<char> canonicalPath, out ReadOnlySpan<char> subject)
    {
        subject = default;
        var index = 0;
        var segments = canonicalPath.TrimStart('/');
        foreach (var range in segments.Split('/'))
        {
            if (index == _literals.Length)
            {
                break;
            }

            var segment = segments[range];
            if (segment.IsEmpty)
            {
                return false;
            }

            if (_literals[index] is { } literal && !LiteralMatches(segment, literal))
            {
                return false;
            }

            if (index == _subjectIndex)
            {
                subject = segment;
            }

            index++;
        }

        return index >= _requiredSegments;
    }

    /// <summary>
    /// The literal, in any case, alone, followed by a format suffix (<c>.json</c>, <c>.xml</c>, <c>.anything</c>), or by a
    /// custom method (<c>:batchCreate</c>: Google AIP-136, grpc-gateway — the resource's own path to the upstream, finding C4).
    /// </summary>
    internal static bool LiteralMatches(ReadOnlySpan<char> segment, string literal) =>
        segment.Length == literal.Length
            ? segment.Equals(literal, StringComparison.OrdinalIgnoreCase)
            : segment.Length > literal.Length && segment[literal.Length] is ('.' or ':') && segment.StartsWith(literal, StringComparison.OrdinalIgnoreCase);

    public bool Allows(string method)
    {
        if (_methods is null)
        {
            return true;
        }

        foreach (var allowed in _methods)
        {
            if (string.Equals(allowed, method, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

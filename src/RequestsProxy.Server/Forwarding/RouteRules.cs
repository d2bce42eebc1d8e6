using Microsoft.AspNetCore.Routing.Patterns;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.Forwarding;

/// <summary>Reads and checks our route metadata. Every problem of a route is reported, not just the first.</summary>
internal static class RouteRules
{
    public static string? Get(RouteConfig route, string key)
    {
        if (route.Metadata is null)
        {
            return null;
        }

        if (route.Metadata.TryGetValue(key, out var value))
        {
            return value;
        }

        // Metadata written by hand may not match our casing; configuration keys are case-insensitive anyway.
        foreach (var (name, v) in route.Metadata)
        {
            if (string.Equals(name, key, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }

        return null;
    }

    public static IReadOnlyList<string> Validate(RouteConfig route)
    {
        var errors = new List<string>();
        var prefix = $"route '{route.RouteId}'";
        var scope = Get(route, RouteMetadataKeys.RequiredScope);
        if (scope is null)
        {
            errors.Add($"{prefix}: Metadata.{RouteMetadataKeys.RequiredScope} is required (\"\" for any valid token)");
        }
        else if (scope.Trim().Contains(' ', StringComparison.Ordinal))
        {
            errors.Add($"{prefix}: Metadata.{RouteMetadataKeys.RequiredScope} must name one scope, not '{scope}'");
        }

        var subject = Get(route, RouteMetadataKeys.SubjectParameter);
        if (!string.IsNullOrWhiteSpace(subject))
        {
            var path = route.Match.Path;
            if (path is null)
            {
                errors.Add($"{prefix}: Metadata.{RouteMetadataKeys.SubjectParameter} needs a Match.Path with the parameter {{{subject}}}");
            }
            else
            {
                try
                {
                    var pattern = RoutePatternFactory.Parse(path);
                    if (pattern.GetParameter(subject.Trim()) is not { } parameter)
                    {
                        errors.Add($"{prefix}: Metadata.{RouteMetadataKeys.SubjectParameter} '{subject}' is not a parameter of '{path}'");
                    }
                    else if (parameter.IsCatchAll || parameter.IsOptional
                        || !pattern.PathSegments.Any(s => s.Parts is [RoutePatternParameterPart only] && string.Equals(only.Name, parameter.Name, StringComparison.OrdinalIgnoreCase)))
                    {
                        // The binding is enforced on whole segments of the normalised path (SubjectBindings).
                        errors.Add($"{prefix}: Metadata.{RouteMetadataKeys.SubjectParameter} '{subject}' must be a whole path segment ({{{subject.Trim()}}}), not optional nor a catch-all");
                    }
                }
                catch (RoutePatternException e)
                {
                    errors.Add($"{prefix}: Match.Path '{path}' is invalid: {e.Message}");
                }
            }
        }

        var credential = Get(route, RouteMetadataKeys.UpstreamCredentialFile);
        if (!string.IsNullOrWhiteSpace(credential) && !Path.IsPathFullyQualified(credential.Trim()))
        {
            errors.Add($"{prefix}: Metadata.{RouteMetadataKeys.UpstreamCredentialFile} must be an absolute path, not '{credential}'");
        }

        var upgrade = Get(route, RouteMetadataKeys.AllowUpgrade)?.Trim();
        if (upgrade is not (null or "" ) && !bool.TryParse(upgrade, out _))
        {
            errors.Add($"{prefix}: Metadata.{RouteMetadataKeys.AllowUpgrade} must be true or false, not '{upgrade}'");
        }

        return errors;
    }
}

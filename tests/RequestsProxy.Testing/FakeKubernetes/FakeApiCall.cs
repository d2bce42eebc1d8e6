using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>What a request URL asks for: a discovery document, or a verb on a resource.</summary>
internal sealed record FakeApiCall(
    bool Recognized,
    Func<FakeKubernetesApiServer, JsonObject>? Discovery = null,
    string? Verb = null,
    FakeResourceType? Type = null,
    string? Namespace = null,
    string? Name = null)
{
    private static readonly FakeApiCall Unknown = new(Recognized: false);

    public static FakeApiCall Parse(string method, string path, IQueryCollection query)
    {
        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var isGet = HttpMethods.IsGet(method);
        switch (segments)
        {
            case ["version"] when isGet:
                return new(true, s => s.VersionDocument());
            case ["api"] when isGet:
                return new(true, s => s.CoreVersionsDocument());
            case ["apis"] when isGet:
                return new(true, _ => FakeKubernetesDiscovery.Groups());
            case ["api", "v1"] when isGet:
                return new(true, _ => FakeKubernetesDiscovery.Resources(string.Empty, "v1")!);
            case ["apis", var group] when isGet && FakeKubernetesDiscovery.Group(group) is { } document:
                return new(true, _ => document);
            case ["apis", var group, var version] when isGet && FakeKubernetesDiscovery.Resources(group, version) is { } document:
                return new(true, _ => document);
            case ["api", "v1", .. var rest]:
                return Resource(method, string.Empty, "v1", rest, query);
            case ["apis", var group, var version, .. var rest]:
                return Resource(method, group, version, rest, query);
            default:
                return Unknown;
        }
    }

    private static FakeApiCall Resource(string method, string group, string version, string[] rest, IQueryCollection query)
    {
        string? ns;
        string plural;
        string? name;
        switch (rest)
        {
            case ["namespaces", var n, var p]:
                (ns, plural, name) = (n, p, null);
                break;
            case ["namespaces", var n, var p, var objectName]:
                (ns, plural, name) = (n, p, objectName);
                break;
            case [var p]:
                (ns, plural, name) = (null, p, null);
                break;
            case [var p, var objectName]:
                (ns, plural, name) = (null, p, objectName);
                break;
            default:
                return Unknown;
        }

        var type = FakeResourceCatalog.ByPath(group, version, plural);
        if (type is null || (ns is not null && !type.Namespaced) || (ns is null && name is not null && type.Namespaced))
        {
            return Unknown;
        }

        // A watch is served only from what a test scripted (FakeKubernetesApiServer.EnqueueWatch).
        var watch = query["watch"] is var w && (w.Contains("true") || w.Contains("1"));
        var verb = (method.ToUpperInvariant(), name is null) switch
        {
            ("GET", true) when watch => "watch",
            ("GET", true) => "list",
            ("GET", false) => "get",
            ("POST", true) => "create",
            ("PUT", false) => "update",
            ("PATCH", false) => "patch",
            ("DELETE", false) => "delete",
            _ => null,
        };
        if (verb is null || (verb == "create" && ns is null && type.Namespaced))
        {
            return Unknown;
        }

        return new FakeApiCall(true, null, verb, type, ns, name);
    }
}

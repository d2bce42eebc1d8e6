using System.Text.Json.Nodes;

namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>
/// The legacy (unaggregated) discovery documents. Served as plain <c>application/json</c>, so
/// client-go (helm) falls back from aggregated discovery to these, as against older servers.
/// </summary>
internal static class FakeKubernetesDiscovery
{
    public static JsonObject Version(string minor) => new()
    {
        ["major"] = "1",
        ["minor"] = minor,
        ["gitVersion"] = $"v1.{minor}.0",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2026-01-01T00:00:00Z",
        ["goVersion"] = "go1.25.0",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject CoreVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject Groups() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(GroupNames().Select(g => (JsonNode)Group(g)!).ToArray()),
    };

    public static JsonObject? Group(string group)
    {
        var version = FakeResourceCatalog.All.FirstOrDefault(t => t.Group == group && group.Length > 0);
        if (version is null)
        {
            return null;
        }

        var groupVersion = new JsonObject { ["groupVersion"] = version.ApiVersion, ["version"] = version.Version };
        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = group,
            ["versions"] = new JsonArray(groupVersion),
            ["preferredVersion"] = groupVersion.DeepClone(),
        };
    }

    public static JsonObject? Resources(string group, string version)
    {
        var types = FakeResourceCatalog.All.Where(t => t.Group == group && t.Version == version).ToList();
        if (types.Count == 0)
        {
            return null;
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = types[0].ApiVersion,
            ["resources"] = new JsonArray(types.Select(t => (JsonNode)new JsonObject
            {
                ["name"] = t.Plural,
                ["singularName"] = t.Singular,
                ["namespaced"] = t.Namespaced,
                ["kind"] = t.Kind,
                ["verbs"] = new JsonArray(FakeResourceCatalog.Verbs.Select(v => (JsonNode)v).ToArray()),
            }).ToArray()),
        };
    }

    private static IEnumerable<string> GroupNames() =>
        FakeResourceCatalog.All.Select(t => t.Group).Where(g => g.Length > 0).Distinct(StringComparer.Ordinal);
}

using System.Text.Json.Nodes;

namespace RequestsProxy.Chart.Tests;

/// <summary>The objects one <c>helm template</c> produced, parsed.</summary>
internal sealed class RenderedChart(string yaml, IReadOnlyList<JsonObject> objects)
{
    public string Yaml { get; } = yaml;

    public IReadOnlyList<JsonObject> Objects { get; } = objects;

    public IEnumerable<JsonObject> OfKind(string kind) => Objects.Where(o => o.Str("kind") == kind);

    public JsonObject? Find(string kind, string name) => OfKind(kind).SingleOrDefault(o => o.Str("metadata", "name") == name);

    public JsonObject Get(string kind, string name) =>
        Find(kind, name) ?? throw new Xunit.Sdk.XunitException($"No {kind} {name} in: {string.Join(", ", Objects.Select(o => $"{o.Str("kind")}/{o.Str("metadata", "name")}"))}");

    /// <summary>The first container of a Deployment.</summary>
    public JsonObject Container(string deployment) => (JsonObject)Get("Deployment", deployment)["spec"]!["template"]!["spec"]!["containers"]![0]!;

    public JsonObject PodSpec(string deployment) => (JsonObject)Get("Deployment", deployment)["spec"]!["template"]!["spec"]!;

    /// <summary>A container's env as name → literal value.</summary>
    public Dictionary<string, string?> Env(string deployment) =>
        Container(deployment)["env"]!.AsArray().ToDictionary(e => e!.Str("name")!, e => e!["value"]?.ToString());

    /// <summary>A container's mounts as mountPath → the volume's source (kind and object name).</summary>
    public Dictionary<string, (string Source, string? Name)> Mounts(string deployment)
    {
        var volumes = PodSpec(deployment)["volumes"]!.AsArray().ToDictionary(v => v!.Str("name")!, v => (JsonObject)v!);
        return Container(deployment)["volumeMounts"]!.AsArray().ToDictionary(
            m => m!.Str("mountPath")!,
            m =>
            {
                var volume = volumes[m!.Str("name")!];
                return volume switch
                {
                    _ when volume["secret"] is { } secret => ("secret", secret.Str("secretName")),
                    _ when volume["configMap"] is { } map => ("configMap", map.Str("name")),
                    _ when volume["projected"] is { } projected => ("projected", string.Join(",", projected["sources"]!.AsArray().Select(s => s!.Str("configMap", "name") ?? s.Str("secret", "name")))),
                    _ when volume["emptyDir"] is not null => ("emptyDir", (string?)null),
                    _ => ("other", null),
                };
            });
    }
}

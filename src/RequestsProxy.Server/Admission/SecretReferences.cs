using System.Text.Json;

namespace RequestsProxy.Server.Admission;

/// <summary>How a pod names a Secret: whether its containers get the content, or only the kubelet or a volume plugin does.</summary>
internal enum SecretUse
{
    /// <summary>Mounted or in the environment: the pod's code reads it (secret and projected volumes, env secretKeyRef, envFrom secretRef).</summary>
    ReadByThePod,

    /// <summary>Handed to the kubelet or a volume plugin only (imagePullSecrets, csi nodePublishSecretRef, the in-tree plugins' secretRef).</summary>
    ReadByTheNode,
}

/// <summary>One Secret a pod spec names, and where (a field path relative to the pod spec).</summary>
internal sealed record SecretReference(string Name, string Field, SecretUse Use);

/// <summary>
/// Every Secret a pod spec (a Pod's, or a Job's pod template's) names, in every form the API has, read from the
/// review's JSON as the apiserver would store it — one walker for the Job rules and the Pod rules, so they cannot
/// disagree on what counts as a reference. An absent or empty name is reported as "" (the apiserver refuses those).
/// </summary>
internal static class SecretReferences
{
    /// <summary>Volume plugins that hand a Secret to the node (the plugin), with where its name is.</summary>
    private static readonly (string Plugin, string[] Path)[] NodeVolumeSecrets =
    [
        ("csi", ["nodePublishSecretRef", "name"]),
        ("azureFile", ["secretName"]),
        ("cephfs", ["secretRef", "name"]),
        ("cinder", ["secretRef", "name"]),
        ("flexVolume", ["secretRef", "name"]),
        ("iscsi", ["secretRef", "name"]),
        ("rbd", ["secretRef", "name"]),
        ("scaleIO", ["secretRef", "name"]),
        ("storageos", ["secretRef", "name"]),
    ];

    public static IEnumerable<SecretReference> Of(JsonElement podSpec)
    {
        if (podSpec.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        foreach (var (volume, i) in Items(podSpec, "volumes"))
        {
            if (Property(volume, "secret") is { } secret)
            {
                yield return new(Text(secret, "secretName"), $"volumes[{i}].secret.secretName", SecretUse.ReadByThePod);
            }

            if (Property(volume, "projected") is { } projected)
            {
                foreach (var (source, s) in Items(projected, "sources"))
                {
                    if (Property(source, "secret") is { } projectedSecret)
                    {
                        yield return new(Text(projectedSecret, "name"), $"volumes[{i}].projected.sources[{s}].secret.name", SecretUse.ReadByThePod);
                    }
                }
            }

            foreach (var (plugin, path) in NodeVolumeSecrets)
            {
                if (Property(volume, plugin) is { } source && At(source, path) is { } name)
                {
                    yield return new(name, $"volumes[{i}].{plugin}.{string.Join('.', path)}", SecretUse.ReadByTheNode);
                }
            }
        }

        foreach (var list in (string[])["initContainers", "containers", "ephemeralContainers"])
        {
            foreach (var (container, c) in Items(podSpec, list))
            {
                foreach (var (env, e) in Items(container, "env"))
                {
                    if (Property(env, "valueFrom") is { } from && Property(from, "secretKeyRef") is { } reference)
                    {
                        yield return new(Text(reference, "name"), $"{list}[{c}].env[{e}].valueFrom.secretKeyRef.name", SecretUse.ReadByThePod);
                    }
                }

                foreach (var (from, f) in Items(container, "envFrom"))
                {
                    if (Property(from, "secretRef") is { } reference)
                    {
                        yield return new(Text(reference, "name"), $"{list}[{c}].envFrom[{f}].secretRef.name", SecretUse.ReadByThePod);
                    }
                }
            }
        }

        foreach (var (pull, p) in Items(podSpec, "imagePullSecrets"))
        {
            yield return new(Text(pull, "name"), $"imagePullSecrets[{p}].name", SecretUse.ReadByTheNode);
        }
    }

    /// <summary>The elements of an array property, with their indexes (nothing when it is absent or not an array).</summary>
    public static IEnumerable<(JsonElement Item, int Index)> Items(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray().Select((item, index) => (item, index))
            : [];

    /// <summary>An object property, or null when it is absent, null or not an object.</summary>
    public static JsonElement? Property(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    /// <summary>A string property, or "" when it is absent or not a string.</summary>
    public static string Text(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    private static string? At(JsonElement source, string[] path)
    {
        var current = source;
        for (var i = 0; i < path.Length - 1; i++)
        {
            if (Property(current, path[i]) is not { } next)
            {
                return null;
            }

            current = next;
        }

        return current.TryGetProperty(path[^1], out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}

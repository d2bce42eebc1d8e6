using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RequestsProxy.Testing.Kubernetes;

/// <summary>
/// The fake's storage: one lock around a map of JSON objects and one global resourceVersion
/// counter, as etcd gives the real API server. Every read hands out a deep copy.
/// </summary>
internal sealed partial class FakeObjectStore(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<FakeObjectKey, JsonObject> _objects = [];
    private long _resourceVersion;

    public string CurrentResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _resourceVersion.ToString(CultureInfo.InvariantCulture);
            }
        }
    }

    public JsonObject Get(FakeResourceType type, string? ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue(FakeObjectKey.For(type, ns, name), out var stored)
                ? (JsonObject)stored.DeepClone()
                : throw FakeKubernetesException.NotFound(type, name);
        }
    }

    public JsonObject? TryGet(FakeResourceType type, string? ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue(FakeObjectKey.For(type, ns, name), out var stored) ? (JsonObject)stored.DeepClone() : null;
        }
    }

    public IReadOnlyList<JsonObject> Snapshot(FakeResourceType type, string? ns)
    {
        lock (_gate)
        {
            return _objects
                .Where(p => p.Key.Group == type.Group && p.Key.Plural == type.Plural && (ns is null || p.Key.Namespace == ns))
                .OrderBy(p => p.Key.Namespace, StringComparer.Ordinal)
                .ThenBy(p => p.Key.Name, StringComparer.Ordinal)
                .Select(p => (JsonObject)p.Value.DeepClone())
                .ToList();
        }
    }

    public JsonObject List(FakeResourceType type, string? ns, FakeLabelSelector labels, FakeFieldSelector fields)
    {
        var items = new JsonArray();
        string resourceVersion;
        lock (_gate)
        {
            foreach (var item in Snapshot(type, ns))
            {
                if (labels.Matches(Labels(item)) && fields.Matches(item))
                {
                    // The real server leaves kind and apiVersion off list items.
                    item.Remove("kind");
                    item.Remove("apiVersion");
                    items.Add(item);
                }
            }

            resourceVersion = _resourceVersion.ToString(CultureInfo.InvariantCulture);
        }

        return new JsonObject
        {
            ["kind"] = type.Kind + "List",
            ["apiVersion"] = type.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion },
            ["items"] = items,
        };
    }

    public JsonObject Create(FakeResourceType type, string? ns, JsonObject body, bool dryRun)
    {
        var candidate = (JsonObject)body.DeepClone();
        var metadata = Metadata(candidate);
        CheckTypeAndNamespace(type, ns, candidate);
        if (metadata["resourceVersion"]?.GetValue<string>() is { Length: > 0 })
        {
            throw new FakeKubernetesException(HttpStatusCode.InternalServerError, "InternalError", "resourceVersion should not be set on objects to be created");
        }

        lock (_gate)
        {
            var name = metadata["name"]?.GetValue<string>();
            if (string.IsNullOrEmpty(name) && metadata["generateName"]?.GetValue<string>() is { Length: > 0 } prefix)
            {
                name = prefix + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..5];
                metadata["name"] = name;
            }

            if (string.IsNullOrEmpty(name))
            {
                throw FakeKubernetesException.Invalid(type, string.Empty, "metadata.name: Required value: name or generateName is required");
            }

            var key = FakeObjectKey.For(type, ns, name);
            if (_objects.ContainsKey(key))
            {
                throw FakeKubernetesException.AlreadyExists(type, name);
            }

            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = Timestamp();
            if (HasStatusSubresource(type))
            {
                candidate["status"] = new JsonObject();
            }

            Validate(type, name, candidate);
            if (dryRun)
            {
                return candidate;
            }

            metadata["resourceVersion"] = NextResourceVersion();
            _objects[key] = candidate;
            return (JsonObject)candidate.DeepClone();
        }
    }

    public JsonObject Replace(FakeResourceType type, string? ns, string name, JsonObject body, bool dryRun)
    {
        var candidate = (JsonObject)body.DeepClone();
        CheckTypeAndNamespace(type, ns, candidate);
        var bodyName = Metadata(candidate)["name"]?.GetValue<string>();
        if (bodyName != name)
        {
            throw FakeKubernetesException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        lock (_gate)
        {
            var current = _objects.TryGetValue(FakeObjectKey.For(type, ns, name), out var stored)
                ? stored
                : throw FakeKubernetesException.NotFound(type, name);
            return Commit(type, ns, name, current, candidate, dryRun);
        }
    }

    public JsonObject Patch(FakeResourceType type, string? ns, string name, string? contentType, string body, bool dryRun)
    {
        lock (_gate)
        {
            var current = _objects.TryGetValue(FakeObjectKey.For(type, ns, name), out var stored)
                ? stored
                : throw FakeKubernetesException.NotFound(type, name);
            var candidate = FakeJsonPatch.Apply(current, contentType, body);
            CheckTypeAndNamespace(type, ns, candidate);
            var patchedName = Metadata(candidate)["name"]?.GetValue<string>();
            if (patchedName != name)
            {
                throw FakeKubernetesException.BadRequest($"the name of the object ({patchedName}) does not match the name on the URL ({name})");
            }

            return Commit(type, ns, name, current, candidate, dryRun);
        }
    }

    public JsonObject Delete(FakeResourceType type, string? ns, string name, JsonObject? options, string? propagationQuery, bool dryRun)
    {
        lock (_gate)
        {
            var key = FakeObjectKey.For(type, ns, name);
            var current = _objects.TryGetValue(key, out var stored) ? stored : throw FakeKubernetesException.NotFound(type, name);
            var uid = current["metadata"]?["uid"]?.GetValue<string>();
            var preconditions = options?["preconditions"] as JsonObject;
            if (preconditions?["uid"]?.GetValue<string>() is { } wantedUid && wantedUid != uid)
            {
                throw FakeKubernetesException.Conflict(type, name, $"Precondition failed: UID in precondition: {wantedUid}, UID in object meta: {uid}");
            }

            if (preconditions?["resourceVersion"]?.GetValue<string>() is { } wantedVersion
                && wantedVersion != current["metadata"]?["resourceVersion"]?.GetValue<string>())
            {
                throw FakeKubernetesException.Conflict(type, name, "the ResourceVersion in the precondition does not match the ResourceVersion in record. The object might have been modified");
            }

            if (dryRun)
            {
                return FakeKubernetesStatus.Success(type, name, uid);
            }

            var policy = propagationQuery ?? options?["propagationPolicy"]?.GetValue<string>();
            if (policy is null && options?["orphanDependents"]?.GetValue<bool>() is { } orphanDependents)
            {
                policy = orphanDependents ? "Orphan" : "Background";
            }

            // batch/v1 Jobs orphan their dependents unless the caller asks otherwise: the real
            // server keeps that default for backward compatibility (kubectl passes Background).
            policy ??= type is { Group: "batch", Version: "v1", Plural: "jobs" } ? "Orphan" : "Background";
            if (policy is not ("Orphan" or "Background" or "Foreground"))
            {
                throw FakeKubernetesException.BadRequest($"DeleteOptions.propagationPolicy: Unsupported value: \"{policy}\"");
            }

            _objects.Remove(key);
            NextResourceVersion();
            if (uid is not null)
            {
                CollectGarbage(uid, orphan: policy == "Orphan");
            }

            return FakeKubernetesStatus.Success(type, name, uid);
        }
    }

    /// <summary>Puts an object in as it is (labels, annotations, owner references kept), replacing any copy.</summary>
    public JsonObject Seed(FakeResourceType type, JsonObject body)
    {
        var candidate = (JsonObject)body.DeepClone();
        candidate["apiVersion"] = type.ApiVersion;
        candidate["kind"] = type.Kind;
        var metadata = Metadata(candidate);
        var name = metadata["name"]?.GetValue<string>() ?? throw new ArgumentException("A seeded object needs metadata.name.", nameof(body));
        var ns = type.Namespaced ? metadata["namespace"]?.GetValue<string>() ?? "default" : null;
        if (type.Namespaced)
        {
            metadata["namespace"] = ns;
        }

        lock (_gate)
        {
            if (metadata["uid"] is null)
            {
                metadata["uid"] = Guid.NewGuid().ToString();
            }

            if (metadata["creationTimestamp"] is null)
            {
                metadata["creationTimestamp"] = Timestamp();
            }

            NormalizeSecret(type, candidate);
            metadata["resourceVersion"] = NextResourceVersion();
            _objects[FakeObjectKey.For(type, ns, name)] = candidate;
            return (JsonObject)candidate.DeepClone();
        }
    }

    /// <summary>Changes a stored object in place (e.g. a Job's status, which no controller here sets).</summary>
    public JsonObject Mutate(FakeResourceType type, string? ns, string name, Action<JsonObject> change)
    {
        lock (_gate)
        {
            var key = FakeObjectKey.For(type, ns, name);
            var current = _objects.TryGetValue(key, out var stored) ? stored : throw FakeKubernetesException.NotFound(type, name);
            var candidate = (JsonObject)current.DeepClone();
            change(candidate);
            Metadata(candidate)["resourceVersion"] = NextResourceVersion();
            _objects[key] = candidate;
            return (JsonObject)candidate.DeepClone();
        }
    }

    private JsonObject Commit(FakeResourceType type, string? ns, string name, JsonObject current, JsonObject candidate, bool dryRun)
    {
        var metadata = Metadata(candidate);
        var currentMetadata = (JsonObject)current["metadata"]!;
        var currentVersion = currentMetadata["resourceVersion"]!.GetValue<string>();
        var currentUid = currentMetadata["uid"]?.GetValue<string>();

        // Optimistic concurrency exactly as the real server: an empty resourceVersion is an
        // unconditional update (allowed for these kinds); a present one must be the current one.
        if (metadata["resourceVersion"]?.GetValue<string>() is { Length: > 0 } sentVersion && sentVersion != currentVersion)
        {
            throw FakeKubernetesException.Conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");
        }

        if (metadata["uid"]?.GetValue<string>() is { Length: > 0 } sentUid && sentUid != currentUid)
        {
            throw FakeKubernetesException.Conflict(type, name, $"Precondition failed: UID in precondition: {sentUid}, UID in object meta: {currentUid}");
        }

        metadata["uid"] = currentUid;
        metadata["creationTimestamp"] = currentMetadata["creationTimestamp"]?.DeepClone();
        if (type.Namespaced)
        {
            metadata["namespace"] = ns;
        }

        if (HasStatusSubresource(type))
        {
            // The main resource ignores status writes; only the status subresource sets it.
            candidate["status"] = current["status"]?.DeepClone();
        }

        Validate(type, name, candidate);

        // A write that changes nothing is not a write: the real server keeps the resourceVersion.
        metadata["resourceVersion"] = currentVersion;
        if (JsonNode.DeepEquals(candidate, current) || dryRun)
        {
            return (JsonObject)candidate.DeepClone();
        }

        metadata["resourceVersion"] = NextResourceVersion();
        _objects[FakeObjectKey.For(type, ns, name)] = candidate;
        return (JsonObject)candidate.DeepClone();
    }

    private void CollectGarbage(string ownerUid, bool orphan)
    {
        var liveUids = _objects.Values.Select(o => o["metadata"]?["uid"]?.GetValue<string>()).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var dependents = _objects
            .Where(p => OwnerUids(p.Value).Contains(ownerUid))
            .ToList();
        foreach (var (key, dependent) in dependents)
        {
            var references = (JsonArray)dependent["metadata"]!["ownerReferences"]!;
            var otherOwnersAlive = OwnerUids(dependent).Any(u => u != ownerUid && liveUids.Contains(u));
            if (orphan || otherOwnersAlive)
            {
                foreach (var reference in references.Where(r => r?["uid"]?.GetValue<string>() == ownerUid).ToList())
                {
                    references.Remove(reference);
                }

                if (references.Count == 0)
                {
                    ((JsonObject)dependent["metadata"]!).Remove("ownerReferences");
                }

                dependent["metadata"]!["resourceVersion"] = NextResourceVersion();
                continue;
            }

            _objects.Remove(key);
            NextResourceVersion();
            if (dependent["metadata"]?["uid"]?.GetValue<string>() is { } dependentUid)
            {
                CollectGarbage(dependentUid, orphan: false);
            }
        }
    }

    private static List<string> OwnerUids(JsonObject item) =>
        item["metadata"]?["ownerReferences"] is JsonArray references
            ? references.Select(r => r?["uid"]?.GetValue<string>()).OfType<string>().ToList()
            : [];

    private static void CheckTypeAndNamespace(FakeResourceType type, string? ns, JsonObject candidate)
    {
        var apiVersion = candidate["apiVersion"]?.GetValue<string>();
        var kind = candidate["kind"]?.GetValue<string>();
        if ((apiVersion is not null && apiVersion != type.ApiVersion) || (kind is not null && kind != type.Kind))
        {
            throw FakeKubernetesException.BadRequest($"the API version in the data ({apiVersion}) or kind ({kind}) does not match the expected {type.ApiVersion} {type.Kind}");
        }

        candidate["apiVersion"] = type.ApiVersion;
        candidate["kind"] = type.Kind;
        var metadata = Metadata(candidate);
        if (!type.Namespaced)
        {
            metadata.Remove("namespace");
            return;
        }

        var bodyNamespace = metadata["namespace"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(bodyNamespace) && bodyNamespace != ns)
        {
            throw FakeKubernetesException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        metadata["namespace"] = ns;
    }

    private static void Validate(FakeResourceType type, string name, JsonObject candidate)
    {
        var maxLength = type.Plural == "jobs" ? 63 : 253;
        if (name.Length > maxLength || !NamePattern().IsMatch(name))
        {
            throw FakeKubernetesException.Invalid(type, name, $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain of at most {maxLength} characters is required");
        }

        NormalizeSecret(type, candidate);
        if (type.Plural is "secrets" or "configmaps")
        {
            foreach (var field in new[] { "data", "binaryData" })
            {
                if (candidate[field] is JsonObject data && data.Select(p => p.Key).FirstOrDefault(k => !DataKeyPattern().IsMatch(k)) is { } badKey)
                {
                    throw FakeKubernetesException.Invalid(type, name, $"{field}[{badKey}]: Invalid value: \"{badKey}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'");
                }
            }

            // As the real validation: the values' bytes together (keys not counted), data as stored (a Secret's base64 decoded).
            var total = DataBytes(type, candidate["data"] as JsonObject) + DataBytes(type, candidate["binaryData"] as JsonObject, base64: true);
            if (total > MaxDataBytes)
            {
                throw FakeKubernetesException.Invalid(type, name, $"[]: Too long: must have at most {MaxDataBytes} bytes");
            }
        }

        if (type.Plural == "jobs")
        {
            var podSpec = candidate["spec"]?["template"]?["spec"];
            var restartPolicy = podSpec?["restartPolicy"]?.GetValue<string>();
            if (restartPolicy is not ("Never" or "OnFailure"))
            {
                throw FakeKubernetesException.Invalid(type, name, $"spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\" (got \"{restartPolicy}\")");
            }

            if (podSpec?["containers"] is not JsonArray { Count: > 0 })
            {
                throw FakeKubernetesException.Invalid(type, name, "spec.template.spec.containers: Required value");
            }
        }
    }

    /// <summary>The API server's limit on a ConfigMap's or Secret's data (core.MaxSecretSize, 1 MiB).</summary>
    public const long MaxDataBytes = 1024 * 1024;

    private static long DataBytes(FakeResourceType type, JsonObject? data, bool base64 = false)
    {
        long total = 0;
        foreach (var (_, value) in data ?? [])
        {
            var text = value?.GetValue<string>() ?? "";
            total += base64 || type.Plural == "secrets" ? (text.Length / 4 * 3) - text.TakeLast(2).Count(c => c == '=') : System.Text.Encoding.UTF8.GetByteCount(text);
        }

        return total;
    }

    private static void NormalizeSecret(FakeResourceType type, JsonObject candidate)
    {
        if (type.Plural != "secrets")
        {
            return;
        }

        // The API server folds write-only stringData into data and never returns it.
        if (candidate["stringData"] is JsonObject stringData)
        {
            var data = candidate["data"] as JsonObject ?? new JsonObject();
            foreach (var (key, value) in stringData)
            {
                data[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value?.GetValue<string>() ?? string.Empty));
            }

            candidate["data"] = data;
            candidate.Remove("stringData");
        }

        if (candidate["data"] is JsonObject encoded)
        {
            foreach (var (key, value) in encoded)
            {
                var text = value?.GetValue<string>() ?? string.Empty;
                Span<byte> buffer = new byte[text.Length];
                if (!Convert.TryFromBase64String(text, buffer, out _))
                {
                    throw FakeKubernetesException.BadRequest($"Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at key {key}");
                }
            }
        }

        candidate["type"] ??= "Opaque";
    }

    private static bool HasStatusSubresource(FakeResourceType type) =>
        type.Plural is "jobs" or "pods" or "deployments" or "services" or "poddisruptionbudgets";

    private static JsonObject Metadata(JsonObject candidate)
    {
        if (candidate["metadata"] is JsonObject metadata)
        {
            return metadata;
        }

        metadata = new JsonObject();
        candidate["metadata"] = metadata;
        return metadata;
    }

    private static Dictionary<string, string> Labels(JsonObject item) =>
        item["metadata"]?["labels"] is JsonObject labels
            ? labels.ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() ?? string.Empty, StringComparer.Ordinal)
            : [];

    private string NextResourceVersion() => (++_resourceVersion).ToString(CultureInfo.InvariantCulture);

    private string Timestamp() => time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex DataKeyPattern();
}

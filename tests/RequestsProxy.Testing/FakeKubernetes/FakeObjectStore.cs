using System.Globalization;
using System.Text.Json.Nodes;

namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>
/// The fake's storage: one lock around a map of JSON objects and one global resourceVersion
/// counter, as etcd gives the real API server. Every read hands out a deep copy.
/// </summary>
internal sealed class FakeObjectStore(TimeProvider time)
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

    public JsonObject Get(FakeResourceType type, string? ns, string name) =>
        TryGet(type, ns, name) ?? throw FakeKubernetesException.NotFound(type, name);

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

    /// <summary>Every object of a kind matching <paramref name="labels"/>, in one page (a <c>limit</c> is never reached here).</summary>
    public JsonObject List(FakeResourceType type, string? ns, FakeLabelSelector labels)
    {
        var items = new JsonArray();
        string resourceVersion;
        lock (_gate)
        {
            foreach (var item in Snapshot(type, ns).Where(i => labels.Matches(Labels(i))))
            {
                // The real server leaves kind and apiVersion off list items.
                item.Remove("kind");
                item.Remove("apiVersion");
                items.Add(item);
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

    /// <summary>POST: 409 AlreadyExists when the name is taken; uid and creationTimestamp are set.</summary>
    /// <summary>POST: 409 AlreadyExists when the name is taken; with <paramref name="dryRun"/> (<c>?dryRun=All</c>) the answer of a create that stores nothing.</summary>
    public JsonObject Create(FakeResourceType type, string? ns, JsonObject body, bool dryRun = false)
    {
        var candidate = (JsonObject)body.DeepClone();
        SetTypeAndNamespace(type, ns, candidate);
        var metadata = Metadata(candidate);
        var name = metadata["name"]?.GetValue<string>() is { Length: > 0 } n ? n : throw FakeKubernetesException.BadRequest("metadata.name is required");
        lock (_gate)
        {
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

            FoldStringData(type, candidate);
            CheckDataSize(type, name, candidate);
            if (dryRun)
            {
                // A dry run gets no resourceVersion and leaves the store as it was.
                return candidate;
            }

            metadata["resourceVersion"] = NextResourceVersion();
            _objects[key] = candidate;
            return (JsonObject)candidate.DeepClone();
        }
    }

    /// <summary>PUT: 404 when missing; 409 Conflict when the sent <c>resourceVersion</c> is not the current one (none sent: unconditional).</summary>
    public JsonObject Replace(FakeResourceType type, string? ns, string name, JsonObject body)
    {
        var candidate = (JsonObject)body.DeepClone();
        SetTypeAndNamespace(type, ns, candidate);
        RequireName(candidate, name);
        lock (_gate)
        {
            return Commit(type, ns, name, Stored(type, ns, name), candidate);
        }
    }

    /// <summary>PATCH: a merge patch on the current object.</summary>
    public JsonObject Patch(FakeResourceType type, string? ns, string name, string? contentType, string body)
    {
        lock (_gate)
        {
            var current = Stored(type, ns, name);
            var candidate = FakeJsonPatch.Apply(current, contentType, body);
            SetTypeAndNamespace(type, ns, candidate);
            RequireName(candidate, name);
            return Commit(type, ns, name, current, candidate);
        }
    }

    /// <summary>
    /// DELETE, with the garbage collector run synchronously: dependents (by <c>ownerReferences</c>
    /// uid) go too, except with <c>propagationPolicy=Orphan</c> — the default of batch/v1 Jobs,
    /// as on a real cluster (KubernetesClient callers pass Background).
    /// </summary>
    /// <param name="preconditionUid">Delete only that incarnation: another uid under the name is a 409, as the real server answers.</param>
    public JsonObject Delete(FakeResourceType type, string? ns, string name, string? propagationPolicy, string? preconditionUid = null)
    {
        lock (_gate)
        {
            var current = Stored(type, ns, name);
            var uid = current["metadata"]?["uid"]?.GetValue<string>();
            if (preconditionUid is not null && preconditionUid != uid)
            {
                throw FakeKubernetesException.Conflict(type, name, $"Precondition failed: UID in precondition: {preconditionUid}, UID in object meta: {uid}");
            }

            var policy = propagationPolicy ?? (type is { Group: "batch", Plural: "jobs" } ? "Orphan" : "Background");
            if (policy is not ("Orphan" or "Background" or "Foreground"))
            {
                throw FakeKubernetesException.BadRequest($"DeleteOptions.propagationPolicy: Unsupported value: \"{policy}\"");
            }

            _objects.Remove(FakeObjectKey.For(type, ns, name));
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
        var metadata = Metadata(candidate);
        var name = metadata["name"]?.GetValue<string>() ?? throw new ArgumentException("A seeded object needs metadata.name.", nameof(body));
        var ns = type.Namespaced ? metadata["namespace"]?.GetValue<string>() ?? "default" : null;
        SetTypeAndNamespace(type, ns, candidate);
        lock (_gate)
        {
            metadata["uid"] ??= Guid.NewGuid().ToString();
            metadata["creationTimestamp"] ??= Timestamp();
            FoldStringData(type, candidate);
            CheckDataSize(type, name, candidate);
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
            var candidate = (JsonObject)Stored(type, ns, name).DeepClone();
            change(candidate);
            Metadata(candidate)["resourceVersion"] = NextResourceVersion();
            _objects[FakeObjectKey.For(type, ns, name)] = candidate;
            return (JsonObject)candidate.DeepClone();
        }
    }

    private JsonObject Stored(FakeResourceType type, string? ns, string name) =>
        _objects.TryGetValue(FakeObjectKey.For(type, ns, name), out var stored) ? stored : throw FakeKubernetesException.NotFound(type, name);

    private JsonObject Commit(FakeResourceType type, string? ns, string name, JsonObject current, JsonObject candidate)
    {
        var metadata = Metadata(candidate);
        var currentMetadata = (JsonObject)current["metadata"]!;
        var currentVersion = currentMetadata["resourceVersion"]!.GetValue<string>();

        // Optimistic concurrency as on the real server: a sent resourceVersion must be the current one.
        if (metadata["resourceVersion"]?.GetValue<string>() is { Length: > 0 } sentVersion && sentVersion != currentVersion)
        {
            throw FakeKubernetesException.Conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");
        }

        metadata["uid"] = currentMetadata["uid"]?.DeepClone();
        metadata["creationTimestamp"] = currentMetadata["creationTimestamp"]?.DeepClone();
        if (HasStatusSubresource(type))
        {
            // The main resource ignores status writes; only the status subresource sets it.
            candidate["status"] = current["status"]?.DeepClone();
        }

        FoldStringData(type, candidate);
        CheckDataSize(type, name, candidate);

        // A write that changes nothing is not a write: the real server keeps the resourceVersion.
        metadata["resourceVersion"] = currentVersion;
        if (JsonNode.DeepEquals(candidate, current))
        {
            return (JsonObject)candidate.DeepClone();
        }

        metadata["resourceVersion"] = NextResourceVersion();
        _objects[FakeObjectKey.For(type, ns, name)] = candidate;
        return (JsonObject)candidate.DeepClone();
    }

    private void CollectGarbage(string ownerUid, bool orphan)
    {
        foreach (var (key, dependent) in _objects.Where(p => OwnerUids(p.Value).Contains(ownerUid)).ToList())
        {
            if (orphan)
            {
                var references = (JsonArray)dependent["metadata"]!["ownerReferences"]!;
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

    private static void SetTypeAndNamespace(FakeResourceType type, string? ns, JsonObject candidate)
    {
        candidate["apiVersion"] = type.ApiVersion;
        candidate["kind"] = type.Kind;
        if (type.Namespaced)
        {
            Metadata(candidate)["namespace"] = ns;
        }
    }

    private static void RequireName(JsonObject candidate, string name)
    {
        if (Metadata(candidate)["name"]?.GetValue<string>() is var bodyName && bodyName != name)
        {
            throw FakeKubernetesException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }
    }

    /// <summary>The API server's limit on a ConfigMap's or Secret's data (core.MaxSecretSize, 1 MiB).</summary>
    public const long MaxDataBytes = 1024 * 1024;

    /// <summary>As the real validation: the values' bytes together (keys not counted; a Secret's base64 decoded) at most 1 MiB, else 422.</summary>
    private static void CheckDataSize(FakeResourceType type, string name, JsonObject candidate)
    {
        if (type.Plural is not ("secrets" or "configmaps"))
        {
            return;
        }

        long total = 0;
        foreach (var (field, base64) in new[] { ("data", type.Plural == "secrets"), ("binaryData", true) })
        {
            foreach (var (_, value) in candidate[field] as JsonObject ?? [])
            {
                var text = value?.GetValue<string>() ?? "";
                total += base64 ? (text.Length / 4 * 3) - text.TakeLast(2).Count(c => c == '=') : System.Text.Encoding.UTF8.GetByteCount(text);
            }
        }

        if (total > MaxDataBytes)
        {
            throw new FakeKubernetesException(System.Net.HttpStatusCode.UnprocessableEntity, "Invalid",
                $"{type.Kind} \"{name}\" is invalid: []: Too long: must have at most {MaxDataBytes} bytes", type, name);
        }
    }

    /// <summary>The API server folds a Secret's write-only <c>stringData</c> into <c>data</c> and never returns it; the type defaults to Opaque.</summary>
    private static void FoldStringData(FakeResourceType type, JsonObject candidate)
    {
        if (type.Plural != "secrets")
        {
            return;
        }

        candidate["type"] ??= "Opaque";
        if (candidate["stringData"] is not JsonObject stringData)
        {
            return;
        }

        var data = candidate["data"] as JsonObject ?? new JsonObject();
        foreach (var (key, value) in stringData)
        {
            data[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value?.GetValue<string>() ?? string.Empty));
        }

        candidate["data"] = data;
        candidate.Remove("stringData");
    }

    private static bool HasStatusSubresource(FakeResourceType type) => type.Plural is "jobs";

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
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RequestsProxy.Testing.Hosting;

namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>
/// A FAKE Kubernetes API server for tests — not a cluster. Kestrel on 127.0.0.1 with a random
/// port, spoken to over real HTTP by the real KubernetesClient (the calls <c>src</c> makes) and the
/// real <c>helm</c> (<c>template --dry-run=server</c>). It serves exactly those calls and nothing
/// more; what Kubernetes does beyond them is proven on a real cluster (tests/cluster):
/// <list type="bullet">
/// <item>GET and LIST (equality <c>labelSelector</c>s) of every served kind; POST (409
/// AlreadyExists; <c>?dryRun=All</c> stores nothing), PUT (404 when missing; 409 Conflict when the sent <c>resourceVersion</c> is not
/// the current one), merge PATCH and DELETE (404 when missing) of secrets, configmaps and jobs.</item>
/// <item>One global <c>resourceVersion</c> counter bumped by every write (a no-op update keeps
/// it, as on the real server); <c>uid</c> and <c>creationTimestamp</c> set on create.</item>
/// <item>Errors as real <c>Status</c> objects (NotFound, AlreadyExists, Conflict, Forbidden, BadRequest).</item>
/// <item>Optional RBAC: with <see cref="RbacRules"/> set, any request no rule allows gets 403.</item>
/// <item>Garbage collection, synchronous: deleting an owner deletes its dependents (by
/// <c>ownerReferences</c> uid), except with <c>propagationPolicy=Orphan</c>, which is also the
/// default for batch/v1 Jobs, as on a real cluster.</item>
/// <item>Discovery (<c>/version</c>, <c>/api</c>, <c>/apis</c>, <c>/api/v1</c>, <c>/apis/G/V</c>)
/// as helm needs it for <c>lookup</c> and <c>--dry-run=server</c>.</item>
/// </list>
/// <item>Watches only as scripted: each watch request is answered with the next batch a test
/// queued with <see cref="EnqueueWatch"/> (events, or an ERROR Status such as 410 Gone), then
/// closed; with nothing queued, an empty stream (the server closing the watch at once).</item>
/// A DELETE's <c>preconditions.uid</c> is checked (409 Conflict when the object is another incarnation, as the
/// real server answers). No field selectors, strategic-merge or JSON patches, generateName or
/// resourceVersion preconditions on delete: nothing here sends them.
/// </summary>
public sealed class FakeKubernetesApiServer : IAsyncDisposable
{
    private readonly FakeObjectStore _store;
    private readonly ConcurrentQueue<FakeKubernetesRequest> _requests = new();
    private readonly ConcurrentQueue<IReadOnlyList<JsonObject>> _watches = new();
    private volatile IReadOnlyList<FakeRbacRule>? _rbacRules;
    private LoopbackApp _app = null!;

    private FakeKubernetesApiServer(FakeObjectStore store)
    {
        _store = store;
    }

    /// <summary>Where the fake listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress => _app.Url;

    /// <summary>The Kubernetes minor version <c>/version</c> reports (major is 1).</summary>
    public string KubernetesMinorVersion { get; init; } = "35";

    /// <summary>User named in Forbidden messages.</summary>
    public string UserName { get; set; } = "system:serviceaccount:default:fake";

    /// <summary>
    /// Allow rules of the RBAC emulation; null (the default) allows everything. Load them from a
    /// rendered Role with <see cref="FakeRbacRule.FromYaml"/>.
    /// </summary>
    public IReadOnlyList<FakeRbacRule>? RbacRules
    {
        get => _rbacRules;
        set => _rbacRules = value;
    }

    /// <summary>Every request answered so far, in order.</summary>
    public IReadOnlyList<FakeKubernetesRequest> Requests => _requests.ToArray();

    /// <summary>Requests for paths the fake does not serve (useful to see what a client expected).</summary>
    public IReadOnlyList<FakeKubernetesRequest> UnknownRequests => _requests.Where(r => !r.Recognized).ToArray();

    /// <summary>The current value of the global resourceVersion counter.</summary>
    public string ResourceVersion => _store.CurrentResourceVersion;

    public static async Task<FakeKubernetesApiServer> StartAsync(TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        var server = new FakeKubernetesApiServer(new FakeObjectStore(timeProvider ?? TimeProvider.System));
        server._app = await LoopbackApp.StartAsync(server.HandleAsync, cancellationToken: cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>Writes a kubeconfig for this fake into <paramref name="directory"/> and returns its path.</summary>
    public string WriteKubeconfig(string directory, string defaultNamespace = "default")
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "kubeconfig");
        var server = BaseAddress.GetLeftPart(UriPartial.Authority);
        var yaml = $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster:
                  server: {server}
            users:
              - name: fake
                user:
                  token: fake-token
            contexts:
              - name: fake
                context:
                  cluster: fake
                  user: fake
                  namespace: {defaultNamespace}
            current-context: fake

            """;
        File.WriteAllText(path, yaml);
        return path;
    }

    public KubernetesClientConfiguration CreateClientConfiguration(string defaultNamespace = "default") => new()
    {
        Host = BaseAddress.GetLeftPart(UriPartial.Authority),
        Namespace = defaultNamespace,
        AccessToken = "fake-token",
    };

    public IKubernetes CreateClient(string defaultNamespace = "default") => new k8s.Kubernetes(CreateClientConfiguration(defaultNamespace));

    /// <summary>Puts an object in directly (replacing any copy), labels, annotations and owner references as given.</summary>
    public JsonObject Seed(JsonObject item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var type = FakeResourceCatalog.ByKind(item["apiVersion"]?.GetValue<string>() ?? string.Empty, item["kind"]?.GetValue<string>() ?? string.Empty)
            ?? throw new ArgumentException($"The fake does not serve {item["apiVersion"]} {item["kind"]}.", nameof(item));
        return _store.Seed(type, item);
    }

    /// <summary>Puts a typed object in directly; namespace defaults to <c>default</c>.</summary>
    public T Seed<T>(T item)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(item);
        var type = TypeOf<T>();
        item.ApiVersion ??= type.ApiVersion;
        item.Kind ??= type.Kind;
        var stored = _store.Seed(type, (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(item))!);
        return KubernetesJson.Deserialize<T>(stored.ToJsonString());
    }

    public V1Secret SeedSecret(
        string ns,
        string name,
        IReadOnlyDictionary<string, string> data,
        IReadOnlyDictionary<string, string>? labels = null,
        IReadOnlyDictionary<string, string>? annotations = null) =>
        Seed(new V1Secret
        {
            Metadata = Meta(ns, name, labels, annotations),
            Type = "Opaque",
            Data = data.ToDictionary(p => p.Key, p => Encoding.UTF8.GetBytes(p.Value)),
        });

    public V1ConfigMap SeedConfigMap(
        string ns,
        string name,
        IReadOnlyDictionary<string, string> data,
        IReadOnlyDictionary<string, string>? labels = null,
        IReadOnlyDictionary<string, string>? annotations = null) =>
        Seed(new V1ConfigMap { Metadata = Meta(ns, name, labels, annotations), Data = data.ToDictionary() });

    /// <summary>A copy of a stored object, or null. Use <c>v1</c>/<c>Secret</c>, <c>batch/v1</c>/<c>Job</c>, …</summary>
    public JsonObject? Find(string apiVersion, string kind, string? ns, string name) =>
        _store.TryGet(Type(apiVersion, kind), ns, name);

    public T? Find<T>(string? ns, string name)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var stored = _store.TryGet(TypeOf<T>(), ns, name);
        return stored is null ? null : KubernetesJson.Deserialize<T>(stored.ToJsonString());
    }

    /// <summary>Copies of every stored object of a kind, in one namespace or (null) all.</summary>
    public IReadOnlyList<JsonObject> FindAll(string apiVersion, string kind, string? ns = null) => _store.Snapshot(Type(apiVersion, kind), ns);

    /// <summary>Changes a stored object in place and bumps its resourceVersion (e.g. to set a Job's status).</summary>
    public JsonObject Update(string apiVersion, string kind, string? ns, string name, Action<JsonObject> change) =>
        _store.Mutate(Type(apiVersion, kind), ns, name, change);

    public void ClearRequests() => _requests.Clear();

    /// <summary>
    /// The answer to the next watch request: these events (<c>{"type": "ADDED", "object": {…}}</c>),
    /// one per line, then the end of the stream.
    /// </summary>
    public void EnqueueWatch(params JsonObject[] events) => _watches.Enqueue(events);

    /// <summary>A watch event of a stored object as it is now (its resourceVersion included).</summary>
    public JsonObject WatchEvent(string type, JsonObject item) => new() { ["type"] = type, ["object"] = item.DeepClone() };

    /// <summary>The ERROR event a real server sends when the watch's resourceVersion is too old.</summary>
    public static JsonObject WatchExpired(string resourceVersion) => new()
    {
        ["type"] = "ERROR",
        ["object"] = new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["reason"] = "Expired", ["code"] = 410,
            ["message"] = $"too old resource version: {resourceVersion}",
        },
    };

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static V1ObjectMeta Meta(string ns, string name, IReadOnlyDictionary<string, string>? labels, IReadOnlyDictionary<string, string>? annotations) => new()
    {
        Name = name,
        NamespaceProperty = ns,
        Labels = labels?.ToDictionary(),
        Annotations = annotations?.ToDictionary(),
    };

    private static FakeResourceType Type(string apiVersion, string kind) =>
        FakeResourceCatalog.ByKind(apiVersion, kind) ?? throw new ArgumentException($"The fake does not serve {apiVersion} {kind}.", nameof(kind));

    private static FakeResourceType TypeOf<T>()
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new ArgumentException($"{typeof(T).Name} is not a Kubernetes entity type.");
        var apiVersion = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";
        return Type(apiVersion, entity.Kind);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }

        var call = FakeApiCall.Parse(request.Method, request.Path.Value ?? "/", request.Query);
        if (call.Verb == "watch")
        {
            await WatchAsync(context, call, body).ConfigureAwait(false);
            return;
        }

        JsonObject payload;
        var status = HttpStatusCode.OK;
        try
        {
            (status, payload) = Dispatch(call, request, body);
        }
        catch (FakeKubernetesException error)
        {
            status = error.Code;
            payload = FakeKubernetesStatus.Failure(error);
        }

        _requests.Enqueue(new FakeKubernetesRequest(
            request.Method,
            request.Path.Value ?? "/",
            request.QueryString.Value ?? string.Empty,
            call.Verb,
            call.Type?.Group,
            call.Type?.Plural,
            call.Namespace,
            call.Name,
            request.ContentType,
            body,
            (int)status,
            call.Recognized));

        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(payload.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private async Task WatchAsync(HttpContext context, FakeApiCall call, string body)
    {
        var request = context.Request;
        var status = HttpStatusCode.OK;
        IReadOnlyList<JsonObject> events = [];
        JsonObject? failure = null;
        try
        {
            Authorize(call);
            _watches.TryDequeue(out var scripted);
            events = scripted ?? [];
        }
        catch (FakeKubernetesException error)
        {
            status = error.Code;
            failure = FakeKubernetesStatus.Failure(error);
        }

        _requests.Enqueue(new FakeKubernetesRequest(request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? string.Empty, call.Verb,
            call.Type?.Group, call.Type?.Plural, call.Namespace, call.Name, request.ContentType, body, (int)status, call.Recognized));
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        if (failure is not null)
        {
            await context.Response.WriteAsync(failure.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        foreach (var e in events)
        {
            await context.Response.WriteAsync(e.ToJsonString() + "\n", context.RequestAborted).ConfigureAwait(false);
        }
    }

    private (HttpStatusCode Status, JsonObject Payload) Dispatch(FakeApiCall call, HttpRequest request, string body)
    {
        if (call.Discovery is { } discovery)
        {
            return (HttpStatusCode.OK, discovery(this));
        }

        if (!call.Recognized || call.Type is null || call.Verb is null)
        {
            throw new FakeKubernetesException(HttpStatusCode.NotFound, "NotFound", "the server could not find the requested resource");
        }

        Authorize(call);
        var type = call.Type;
        switch (call.Verb)
        {
            case "get":
                return (HttpStatusCode.OK, _store.Get(type, call.Namespace, call.Name!));
            case "list":
                return (HttpStatusCode.OK, _store.List(type, call.Namespace, FakeLabelSelector.Parse(request.Query["labelSelector"])));
            case "create":
                return (HttpStatusCode.Created, _store.Create(type, call.Namespace, ParseObject(body), request.Query["dryRun"].FirstOrDefault() == "All"));
            case "update":
                return (HttpStatusCode.OK, _store.Replace(type, call.Namespace, call.Name!, ParseObject(body)));
            case "patch":
                return (HttpStatusCode.OK, _store.Patch(type, call.Namespace, call.Name!, request.ContentType, body));
            case "delete":
                // DeleteOptions come as the body (KubernetesClient) or as query parameters; the body's preconditions.uid is checked.
                var options = string.IsNullOrWhiteSpace(body) ? null : ParseObject(body);
                var policy = request.Query["propagationPolicy"].FirstOrDefault() ?? options?["propagationPolicy"]?.GetValue<string>();
                return (HttpStatusCode.OK, _store.Delete(type, call.Namespace, call.Name!, policy, options?["preconditions"]?["uid"]?.GetValue<string>()));
            default:
                throw new FakeKubernetesException(HttpStatusCode.MethodNotAllowed, "MethodNotAllowed", $"the fake Kubernetes API server does not support {call.Verb} on {type.QualifiedResource}");
        }
    }

    private void Authorize(FakeApiCall call)
    {
        var rules = _rbacRules;
        var type = call.Type!;
        if (rules is null || rules.Any(r => r.Allows(call.Verb!, type.Group, type.Plural, call.Namespace, call.Name)))
        {
            return;
        }

        var subject = call.Name is null ? type.QualifiedResource : $"{type.QualifiedResource} \"{call.Name}\"";
        var scope = call.Namespace is null ? "at the cluster scope" : $"in the namespace \"{call.Namespace}\"";
        throw new FakeKubernetesException(
            HttpStatusCode.Forbidden,
            "Forbidden",
            $"{subject} is forbidden: User \"{UserName}\" cannot {call.Verb} resource \"{type.Plural}\" in API group \"{type.Group}\" {scope}",
            type,
            call.Name);
    }

    private static JsonObject ParseObject(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw FakeKubernetesException.BadRequest("the request body is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw FakeKubernetesException.BadRequest($"error decoding the request body: {e.Message}");
        }
    }

    internal JsonObject VersionDocument() => FakeKubernetesDiscovery.Version(KubernetesMinorVersion);

    internal JsonObject CoreVersionsDocument() =>
        FakeKubernetesDiscovery.CoreVersions(BaseAddress.Authority.ToString(CultureInfo.InvariantCulture));
}

using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Keys;

/// <summary>
/// The key ring in the keys Secret (DESIGN §3): data entries <c>active</c>, <c>v1</c>, … and the
/// history in an annotation. Every write is a replace carrying the <c>resourceVersion</c> of the
/// read it is based on, so a concurrent change (another operator, <c>helm upgrade</c>) makes it
/// fail with 409 instead of being lost. Everything else on the Secret — Helm's labels and
/// annotations, other data entries, existing key bytes — is written back exactly as read.
/// </summary>
internal sealed class KubernetesSecretKeyRingStore(IKubernetes client, string ns, string secretName) : IKeyRingStore
{
    /// <summary>When each kid was added, promoted and demoted: the same JSON as the folder form's history file.</summary>
    public const string HistoryAnnotation = "requests-proxy.io/key-history";

    /// <summary>Set on a Secret this tool creates (<c>keys init</c>, e.g. for a GitOps <c>existingSecret</c>).</summary>
    public const string ManagedByValue = "rpctl";

    // The last read: its resourceVersion guards the next write, and its metadata and data are kept.
    private V1Secret? _read;

    public string Location => $"Secret '{ns}/{secretName}'";

    public string Name => $"{ns}/{secretName}";

    public string Kind => "kubernetes-secret";

    public async Task<KeyRingDocument?> ReadAsync(CancellationToken cancellationToken)
    {
        _read = await GetAsync(cancellationToken);
        if (_read is null || !HasRing(_read))
        {
            return null;
        }

        var data = _read.Data!;
        if (!data.TryGetValue(KeyRingRules.ActiveFileName, out var activeBytes))
        {
            throw Invalid($"it has no '{KeyRingRules.ActiveFileName}' entry");
        }

        var active = Encoding.UTF8.GetString(KeyRingRules.TrimTrailingWhitespace(activeBytes)).Trim();
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in data)
        {
            if (!KeyRingRules.IsKid(name))
            {
                continue;
            }

            var trimmed = KeyRingRules.TrimTrailingWhitespace(value);
            if (trimmed.Length < SigningKey.MinimumLength)
            {
                throw Invalid($"key '{name}' is {trimmed.Length} bytes; at least {SigningKey.MinimumLength} are required");
            }

            keys[name] = Encoding.UTF8.GetString(trimmed);
        }

        if (!KeyRingRules.IsKid(active) || !keys.ContainsKey(active))
        {
            throw Invalid($"'{KeyRingRules.ActiveFileName}' names '{(active.Length <= 32 ? active : active[..32] + "…")}', which is not one of its keys");
        }

        string? historyJson = null;
        _read.Metadata?.Annotations?.TryGetValue(HistoryAnnotation, out historyJson);
        var history = KeyHistory.Parse(historyJson);
        return new KeyRingDocument(active, keys, history);
    }

    public async Task WriteAsync(KeyRingDocument document, bool create, CancellationToken cancellationToken)
    {
        if (create)
        {
            await CreateAsync(document, cancellationToken);
            return;
        }

        var read = _read ?? throw new InvalidOperationException("a write must follow a read of the same Secret");
        try
        {
            await client.CoreV1.ReplaceNamespacedSecretAsync(Apply(read, document), secretName, ns, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new KeyRingConflictException($"{Location} was changed by someone else since it was read");
        }
        catch (HttpOperationException e)
        {
            throw Failure(e, "update");
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
        finally
        {
            // Whatever happened, the next write must be based on a fresh read.
            _read = null;
        }
    }

    /// <summary>
    /// Creates the Secret, or fills one that exists without any key entries (an operator may have
    /// created it empty, with their own labels, for a GitOps <c>existingSecret</c>). Never touches a
    /// Secret that already holds a ring.
    /// </summary>
    private async Task CreateAsync(KeyRingDocument document, CancellationToken cancellationToken)
    {
        var existing = await GetAsync(cancellationToken);
        if (existing is not null && HasRing(existing))
        {
            throw new CliException($"a key ring already exists in {Location}; nothing was changed", ExitCodes.Refused);
        }

        try
        {
            if (existing is null)
            {
                var secret = new V1Secret
                {
                    ApiVersion = "v1",
                    Kind = "Secret",
                    Type = "Opaque",
                    Metadata = new V1ObjectMeta
                    {
                        Name = secretName,
                        NamespaceProperty = ns,
                        Labels = new Dictionary<string, string>
                        {
                            ["app.kubernetes.io/part-of"] = "requests-proxy",
                            ["app.kubernetes.io/component"] = "keys",
                            ["app.kubernetes.io/managed-by"] = ManagedByValue,
                        },
                    },
                };
                await client.CoreV1.CreateNamespacedSecretAsync(Apply(secret, document), ns, cancellationToken: cancellationToken);
            }
            else
            {
                await client.CoreV1.ReplaceNamespacedSecretAsync(Apply(existing, document), secretName, ns, cancellationToken: cancellationToken);
            }
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // AlreadyExists (created meanwhile) or Conflict (filled meanwhile): someone else initialised it.
            throw new CliException($"{Location} was created or changed by someone else meanwhile; nothing was changed", ExitCodes.Refused);
        }
        catch (HttpOperationException e)
        {
            throw Failure(e, "create");
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
    }

    private async Task<V1Secret?> GetAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await client.CoreV1.ReadNamespacedSecretAsync(secretName, ns, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (HttpOperationException e)
        {
            throw Failure(e, "get");
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
    }

    /// <summary>
    /// The Secret as it should be after the write: key entries added and removed, <c>active</c> and
    /// the history set, everything else untouched. A kid's existing bytes are kept as they are — a
    /// key never changes once added, and re-encoding could alter bytes that are not UTF-8.
    /// </summary>
    private V1Secret Apply(V1Secret secret, KeyRingDocument document)
    {
        var data = new Dictionary<string, byte[]>(secret.Data ?? new Dictionary<string, byte[]>(), StringComparer.Ordinal);
        foreach (var kid in data.Keys.Where(k => KeyRingRules.IsKid(k) && !document.Keys.ContainsKey(k)).ToList())
        {
            data.Remove(kid);
        }

        foreach (var (kid, key) in document.Keys)
        {
            data.TryAdd(kid, Encoding.UTF8.GetBytes(key));
        }

        data[KeyRingRules.ActiveFileName] = Encoding.UTF8.GetBytes(document.Active);
        secret.Data = data;
        secret.StringData = null;
        secret.Metadata ??= new V1ObjectMeta { Name = secretName, NamespaceProperty = ns };
        secret.Metadata.Annotations = new Dictionary<string, string>(secret.Metadata.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [HistoryAnnotation] = document.History.Serialize(indented: false),
        };
        return secret;
    }

    private static bool HasRing(V1Secret secret) =>
        secret.Data is { } data && data.Keys.Any(k => k == KeyRingRules.ActiveFileName || KeyRingRules.IsKid(k));

    private CliException Invalid(string problem) => new($"the key ring in {Location} is invalid: {problem}");

    private CliException Failure(HttpOperationException e, string verb)
    {
        var message = StatusMessage(e) ?? e.Message;
        return e.Response.StatusCode switch
        {
            HttpStatusCode.Forbidden => new CliException(
                $"the Kubernetes API refused to {verb} {Location}: {message}. rpctl needs get and update on this Secret (and create for 'keys init')"),
            HttpStatusCode.Unauthorized => new CliException($"the Kubernetes API did not accept the credentials of the kubeconfig: {message}"),
            _ => new CliException($"the Kubernetes API could not {verb} {Location} (HTTP {(int)e.Response.StatusCode}): {message}"),
        };
    }

    private static CliException Unreachable(HttpRequestException e) => new($"cannot reach the Kubernetes API: {e.Message}");

    /// <summary>The sentence of a Kubernetes <c>Status</c> body, which says what was refused and why.</summary>
    private static string? StatusMessage(HttpOperationException e)
    {
        try
        {
            using var status = JsonDocument.Parse(e.Response.Content ?? string.Empty);
            return status.RootElement.ValueKind == JsonValueKind.Object && status.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
                ? m.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

using System.Collections.Concurrent;
using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Forwarding;

/// <summary>One <see cref="UpstreamCredential"/> per file, shared by every route naming it.</summary>
internal sealed class UpstreamCredentials(ProxySettings settings, TimeProvider time, ILogger<UpstreamCredentials> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<UpstreamCredential>> _byPath = new(StringComparer.Ordinal);

    public UpstreamCredential Get(string path) =>
        _byPath.GetOrAdd(path, p => new Lazy<UpstreamCredential>(() => new UpstreamCredential(p, settings.CredentialPollInterval, time, logger))).Value;

    public void Dispose()
    {
        foreach (var credential in _byPath.Values)
        {
            if (credential.IsValueCreated)
            {
                credential.Value.Dispose();
            }
        }
    }
}

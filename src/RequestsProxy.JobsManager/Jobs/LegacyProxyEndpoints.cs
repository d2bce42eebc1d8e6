using System.Net;
using System.Net.Sockets;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The proxy replicas as a legacy jobs-manager sees them: <see cref="Legacy"/> run in legacy mode
/// (they mount the admin token and keep a registry: the only ones it sends the admin token to);
/// <see cref="Others"/> do not (stateless, or of a chart too old to say) — while any exists, a
/// new job gets a signed token, which every replica verifies at once.
/// </summary>
internal sealed record LegacyReplicas(IReadOnlyList<Uri> Legacy, IReadOnlyList<Uri> Others);

/// <summary>Where legacy registrations go: every legacy proxy replica, since each keeps its own registry.</summary>
internal interface ILegacyProxyEndpoints
{
    /// <summary>Every proxy replica, split by mode; at least one replica of either kind.</summary>
    /// <exception cref="HttpRequestException">No replica could be found.</exception>
    Task<LegacyReplicas> ResolveAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Without <see cref="JobsManagerOptions.ProxyPodsHost"/>: the proxy URL alone (one replica, or a
/// laptop), taken to be legacy. With it: every address the headless Service's DNS name resolves to —
/// one per proxy pod, ready or not (the chart sets <c>publishNotReadyAddresses</c>) — on the pods'
/// port; with <see cref="JobsManagerOptions.ProxyLegacyPodsHost"/> too (the chart's
/// <c>-legacy-pods</c> Service, selecting the pod label <c>requests-proxy.io/tokens: legacy</c>,
/// which the pod's mode sets and the pod cannot change), only those addresses are legacy, every other
/// one is not. Registering through the ordinary Service would reach one pod at random and leave the
/// others refusing the job's token. With <see cref="JobsManagerOptions.ProxyPodsFile"/> (local
/// replicas on ports): the URLs that file names (<c>URL</c> or <c>URL stateless</c>), read afresh
/// each time as DNS would be.
/// </summary>
internal sealed class DnsLegacyProxyEndpoints(JobsManagerOptions options) : ILegacyProxyEndpoints
{
    public async Task<LegacyReplicas> ResolveAsync(CancellationToken cancellationToken)
    {
        if (options.ProxyPodsFile is { } file)
        {
            return await ReadPodsFileAsync(file, cancellationToken).ConfigureAwait(false);
        }

        if (options.ProxyPodsHost is not { } host)
        {
            return new LegacyReplicas([options.ProxyUrl], []);
        }

        if (options.ProxyLegacyPodsHost is not { } legacyHost)
        {
            var all = await ResolveHostAsync(host, EnvironmentVariablesText.PodsDns, allowNone: false, cancellationToken).ConfigureAwait(false);
            return new LegacyReplicas(all, []);
        }

        var everyPod = ResolveHostAsync(host, EnvironmentVariablesText.PodsDns, allowNone: true, cancellationToken);
        var legacyPods = ResolveHostAsync(legacyHost, EnvironmentVariablesText.LegacyPodsDns, allowNone: true, cancellationToken);
        var legacy = await legacyPods.ConfigureAwait(false);
        var others = (await everyPod.ConfigureAwait(false)).Where(u => !legacy.Contains(u)).ToList();
        if (legacy.Count + others.Count == 0)
        {
            throw new HttpRequestException($"the proxy pods' DNS names '{host}' and '{legacyHost}' resolved to no address: no proxy pod exists");
        }

        return new LegacyReplicas(legacy, others);
    }

    private async Task<IReadOnlyList<Uri>> ResolveHostAsync(string host, string variable, bool allowNone, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (allowNone && e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData)
        {
            // A headless Service without endpoints has no records: no pod of that kind.
            addresses = [];
        }
        catch (SocketException e)
        {
            throw new HttpRequestException($"the proxy pods' DNS name '{host}' ({variable}) did not resolve: {e.Message}", e);
        }

        if (addresses.Length == 0 && !allowNone)
        {
            throw new HttpRequestException($"the proxy pods' DNS name '{host}' ({variable}) resolved to no address: no proxy pod exists");
        }

        var port = options.ProxyPodsPort ?? options.ProxyUrl.Port;
        return [.. addresses.Distinct().Select(address => new UriBuilder(options.ProxyUrl.Scheme, address.ToString(), port).Uri)];
    }

    private static async Task<LegacyReplicas> ReadPodsFileAsync(string file, CancellationToken cancellationToken)
    {
        string[] lines;
        try
        {
            lines = await File.ReadAllLinesAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HttpRequestException($"the proxy replicas file '{file}' (REQUESTS_PROXY_PODS_FILE) could not be read: {e.Message}", e);
        }

        List<Uri> legacy = [], others = [];
        foreach (var line in lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (!Uri.TryCreate(fields[0], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                throw new HttpRequestException($"the proxy replicas file '{file}' (REQUESTS_PROXY_PODS_FILE) names '{fields[0]}', which is not an http(s) URL");
            }

            switch (fields.Length > 1 ? fields[1] : "legacy")
            {
                case "legacy":
                    legacy.Add(url);
                    break;
                case "stateless":
                    others.Add(url);
                    break;
                default:
                    throw new HttpRequestException($"the proxy replicas file '{file}' (REQUESTS_PROXY_PODS_FILE) gives '{line}' the mode '{fields[1]}'; expected 'legacy' or 'stateless'");
            }
        }

        return legacy.Count + others.Count > 0
            ? new LegacyReplicas(legacy, others)
            : throw new HttpRequestException($"the proxy replicas file '{file}' (REQUESTS_PROXY_PODS_FILE) names no replica");
    }

    private static class EnvironmentVariablesText
    {
        public const string PodsDns = Settings.EnvironmentVariables.ProxyPodsDns;
        public const string LegacyPodsDns = Settings.EnvironmentVariables.ProxyLegacyPodsDns;
    }
}

using System.Net;
using System.Net.Sockets;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>Where legacy registrations go: every proxy replica, since each keeps its own registry.</summary>
internal interface ILegacyProxyEndpoints
{
    /// <summary>The base URL of every proxy replica to register with; never empty.</summary>
    /// <exception cref="HttpRequestException">No replica could be found.</exception>
    Task<IReadOnlyList<Uri>> ResolveAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Without <see cref="JobsManagerOptions.ProxyPodsHost"/>: the proxy URL alone (one replica, or a
/// laptop). With it: every address the headless Service's DNS name resolves to — one per proxy
/// pod, ready or not (the chart sets <c>publishNotReadyAddresses</c>) — on the pods' port.
/// Registering through the ordinary Service would reach one pod at random and leave the
/// others refusing the job's token. With <see cref="JobsManagerOptions.ProxyPodsFile"/> (local
/// replicas on ports): the URLs that file names, read afresh each time as DNS would be.
/// </summary>
internal sealed class DnsLegacyProxyEndpoints(JobsManagerOptions options) : ILegacyProxyEndpoints
{
    public async Task<IReadOnlyList<Uri>> ResolveAsync(CancellationToken cancellationToken)
    {
        if (options.ProxyPodsFile is { } file)
        {
            return await ReadPodsFileAsync(file, cancellationToken).ConfigureAwait(false);
        }

        if (options.ProxyPodsHost is not { } host)
        {
            return [options.ProxyUrl];
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new HttpRequestException($"the proxy pods' DNS name '{host}' (REQUESTS_PROXY_PODS_DNS) did not resolve: {e.Message}", e);
        }

        if (addresses.Length == 0)
        {
            throw new HttpRequestException($"the proxy pods' DNS name '{host}' (REQUESTS_PROXY_PODS_DNS) resolved to no address: no proxy pod exists");
        }

        var port = options.ProxyPodsPort ?? options.ProxyUrl.Port;
        return [.. addresses.Distinct().Select(address => new UriBuilder(options.ProxyUrl.Scheme, address.ToString(), port).Uri)];
    }

    private static async Task<IReadOnlyList<Uri>> ReadPodsFileAsync(string file, CancellationToken cancellationToken)
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

        var urls = new List<Uri>();
        foreach (var line in lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            if (!Uri.TryCreate(line, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                throw new HttpRequestException($"the proxy replicas file '{file}' (REQUESTS_PROXY_PODS_FILE) names '{line}', which is not an http(s) URL");
            }

            urls.Add(url);
        }

        return urls.Count > 0 ? urls : throw new HttpRequestException($"the proxy replicas file '{file}' (REQUESTS_PROXY_PODS_FILE) names no replica");
    }
}

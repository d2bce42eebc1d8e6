namespace RequestsProxy.Client;

/// <summary>An <see cref="HttpClient"/> for a training pod, ready to use.</summary>
public static class RequestsProxyHttpClient
{
    /// <summary>
    /// A client whose base address is <c>REQUESTS_PROXY_URL</c> (or <paramref name="baseAddress"/>)
    /// and whose requests keep the client contract through a <see cref="RequestsProxyHandler"/>.
    /// </summary>
    /// <exception cref="RequestsProxyConfigurationException">The proxy's URL or the token is not configured.</exception>
    public static HttpClient Create(RequestsProxyClientOptions? options = null, Uri? baseAddress = null, HttpMessageHandler? innerHandler = null, TimeProvider? timeProvider = null)
    {
        baseAddress ??= FromEnvironment();
        var handler = new RequestsProxyHandler(innerHandler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }, options, timeProvider);
        return new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = baseAddress,
            // The handler's deadline bounds each request; HttpClient's own 100 s would cut it first.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    private static Uri FromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(RequestsProxyEnvironment.Url);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new RequestsProxyConfigurationException($"{RequestsProxyEnvironment.Url} is not set: where is requests-proxy?");
        }

        if (!Uri.TryCreate(text.Trim().TrimEnd('/') + "/", UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new RequestsProxyConfigurationException($"{RequestsProxyEnvironment.Url}='{text}' is not an absolute http(s) URL");
        }

        return url;
    }
}

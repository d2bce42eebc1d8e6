using Microsoft.Extensions.DependencyInjection;

namespace RequestsProxy.Client;

/// <summary>Registers the handler with IHttpClientFactory: <c>services.AddHttpClient("proxy").AddRequestsProxyHandler()</c>.</summary>
public static class RequestsProxyHttpClientBuilderExtensions
{
    public static IHttpClientBuilder AddRequestsProxyHandler(this IHttpClientBuilder builder, Action<RequestsProxyClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new RequestsProxyClientOptions();
        configure?.Invoke(options);
        options.Validate();
        return builder
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddHttpMessageHandler(services => new RequestsProxyHandler(options, services.GetService<TimeProvider>()));
    }
}

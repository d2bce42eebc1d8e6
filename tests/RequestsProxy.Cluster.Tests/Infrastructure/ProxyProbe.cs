using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>Reads what each proxy pod reports (its /metrics, by pod IP) and posts with a given token through the Service.</summary>
public static partial class ProxyProbe
{
    /// <summary>The proxy container's management port (/healthz, /readyz, /metrics; chart value requestsProxy.managementPort).</summary>
    public const int MetricsPort = 9090;

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The kids in force on one proxy pod, with whether each is the active one.</summary>
    public static async Task<IReadOnlyDictionary<string, bool>> KidsAsync(string podIp)
    {
        var text = await Http.GetStringAsync($"http://{podIp}:{MetricsPort}/metrics");
        var kids = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (Match m in KidLine().Matches(text))
        {
            var labels = m.Groups["labels"].Value;
            var kid = Label(labels, "kid");
            if (kid is not null && m.Groups["value"].Value.Trim() != "0")
            {
                kids[kid] = Label(labels, "active") == "true";
            }
        }

        return kids;
    }

    /// <summary>POSTs a result with <paramref name="token"/> through the proxy Service; returns the status code (0: no connection).</summary>
    public static async Task<int> PostAsync(Uri proxy, string job, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(proxy, $"/v1/jobs/{job}/results"))
        {
            Content = new StringContent("{\"epoch\":0}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await Http.SendAsync(request);
            return (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    private static string? Label(string labels, string name)
    {
        var m = Regex.Match(labels, $"(?:^|,){name}=\"(?<v>[^\"]*)\"");
        return m.Success ? m.Groups["v"].Value : null;
    }

    [GeneratedRegex(@"^requests_proxy_key_ring_kid\w*\{(?<labels>[^}]*)\}\s+(?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex KidLine();
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Monitoring;
using RequestsProxy.Testing.Processes;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// The chart's PrometheusRule and Grafana dashboard read only metric names the services really export: both run as
/// processes on loopback, do some work, and are scraped; every expression's names must be in what they printed.
/// </summary>
public sealed partial class MonitoringScrapeTests
{
    private const string AdminToken = "monitoring-admin-token";

    [Fact]
    public async Task ChartRulesAndDashboard_EveryMetricName_ExportedByARealScrape()
    {
        var expressions = (await RuleExpressionsAsync()).Concat(DashboardExpressions()).ToList();
        Assert.True(expressions.Count >= 15, $"only {expressions.Count} expressions found");

        await using var scenario = await ProxyScenario.CreateAsync(stateless: true);
        await scenario.StartProxyAsync();
        await ProxyTrafficAsync(scenario);
        var proxyScrape = await ScrapeAsync(new Uri(scenario.ManagementAddress, "/metrics"));

        using var state = new TempFolder("rp-monitoring");
        await using var jobsManager = await StartJobsManagerAsync(scenario, state);
        await JobLifecycleAsync(jobsManager.Address);
        var jobsManagerScrape = await ScrapeAsync(new Uri(jobsManager.Address, "/metrics"));

        var exposed = PromQl.ExposedNames(proxyScrape).Union(PromQl.ExposedNames(jobsManagerScrape)).ToHashSet(StringComparer.Ordinal);
        var missing = expressions
            .SelectMany(e => PromQl.MetricNames(e).Select(name => (name, e)))
            .Where(p => !exposed.Contains(p.name))
            .Select(p => $"{p.name} (in: {p.e})")
            .Distinct()
            .ToList();
        Assert.True(missing.Count == 0, "not exported by either service:\n" + string.Join("\n", missing) + "\n\nexported:\n" + string.Join("\n", exposed.Order(StringComparer.Ordinal)));
        Assert.All(expressions, e => Assert.NotEmpty(PromQl.MetricNames(e)));
    }

    private static async Task<IReadOnlyList<string>> RuleExpressionsAsync()
    {
        var home = Directory.CreateTempSubdirectory("monitoring-helm-");
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["HELM_CACHE_HOME"] = Path.Combine(home.FullName, "cache"),
                ["HELM_CONFIG_HOME"] = Path.Combine(home.FullName, "config"),
                ["HELM_DATA_HOME"] = Path.Combine(home.FullName, "data"),
                ["KUBECONFIG"] = Path.Combine(home.FullName, "no-kubeconfig"),
            };
            var chart = Path.Combine(RepositoryRoot.Path, "deploy", "charts", "requests-proxy");
            var result = await ToolProcess.RunAsync(await HelmBinary.GetPathAsync(),
                ["template", "rel", chart, "--namespace", "jobs", "--set", "requestsProxy.upstream.url=http://upstream.test",
                 "--set", "monitoring.prometheusRule.enabled=true", "--show-only", "templates/prometheusrule.yaml"],
                home.FullName, environment);
            Assert.True(result.Succeeded, result.StandardError);

            // The template writes every expression on one `expr:` line (the chart tests parse the YAML; this one only needs the text).
            return [.. ExprLine().Matches(result.StandardOutput).Select(m => m.Groups[1].Value.Trim())];
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    private static IEnumerable<string> DashboardExpressions()
    {
        var path = Path.Combine(RepositoryRoot.Path, "deploy", "charts", "requests-proxy", "dashboards", "requests-proxy.json");
        var dashboard = JsonNode.Parse(File.ReadAllText(path))!;
        return dashboard["panels"]!.AsArray()
            .SelectMany(p => p!["targets"]!.AsArray())
            .Select(t => t!["expr"]!.GetValue<string>());
    }

    private static async Task ProxyTrafficAsync(ProxyScenario scenario)
    {
        using var client = new HttpClient { BaseAddress = scenario.Address };
        var token = scenario.Mint("job-m");
        using (var ok = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs/job-m/results") { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
        {
            ok.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await client.SendAsync(ok);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var bad = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs/job-m/results") { Content = new StringContent("{}") };
        bad.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token + "x");
        using var refused = await client.SendAsync(bad);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private static async Task<JobsManagerProcess> StartJobsManagerAsync(ProxyScenario scenario, TempFolder state)
    {
        File.WriteAllText(state.Combine("admin-token"), AdminToken + "\n");
        var process = ServiceProcess.Start(ServiceProcess.FindAssembly("jobs-manager"), new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["REQUESTS_PROXY_STATELESS"] = "true",
            ["REQUESTS_PROXY_KEYS_DIR"] = scenario.Keys.Path,
            ["REQUESTS_PROXY_ADMIN_TOKEN_FILE"] = state.Combine("admin-token"),
            ["JOBS_MANAGER_STATE_DIR"] = state.Combine("state"),
            ["REQUESTS_PROXY_REVOKED_DIR"] = state.Combine("revoked"),
            ["REQUESTS_PROXY_URL"] = scenario.Address.ToString(),
            ["RELEASE_NAME"] = "e2e",
            ["NAMESPACE"] = "test",
        });
        var address = await process.WaitForListeningAsync(TimeSpan.FromSeconds(30));
        await process.WaitForOkAsync(new Uri(address, "/readyz"), TimeSpan.FromSeconds(30));
        return new JobsManagerProcess(process, address);
    }

    private static async Task JobLifecycleAsync(Uri address)
    {
        using var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var body = JsonSerializer.Serialize(new { name = "job-m", command = new[] { "sleep", "30" } });
        using (var started = await client.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        }

        using var stopped = await client.DeleteAsync("/v1/jobs/job-m");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
    }

    private static async Task<string> ScrapeAsync(Uri metrics)
    {
        using var client = new HttpClient();
        return await client.GetStringAsync(metrics);
    }

    [GeneratedRegex(@"^\s*expr:\s*(.+)$", RegexOptions.Multiline)]
    private static partial Regex ExprLine();

    private sealed record JobsManagerProcess(ServiceProcess Process, Uri Address) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }
}

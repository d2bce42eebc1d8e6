using System.Text.Json;
using System.Text.Json.Nodes;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// ServiceMonitor, PrometheusRule and the Grafana dashboard: off by default, each behind its value, valid for promtool.
/// (That every metric name they read is really exported is MonitoringScrapeTests in the end-to-end tests.)
/// </summary>
public sealed class MonitoringTests : IDisposable
{
    private static readonly string[] AllOn = ["monitoring.serviceMonitor.enabled=true", "monitoring.prometheusRule.enabled=true", "monitoring.dashboard.enabled=true"];

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_Defaults_NoMonitoringObjects()
    {
        var chart = await _helm.TemplateAsync();

        Assert.Empty(chart.OfKind("ServiceMonitor"));
        Assert.Empty(chart.OfKind("PrometheusRule"));
        Assert.Null(chart.Find("ConfigMap", "rel-requests-proxy-dashboard"));
    }

    [Fact]
    public async Task Template_ServiceMonitor_SelectsTheTwoMetricServicesNotTheHeadlessOne()
    {
        var chart = await _helm.TemplateAsync([AllOn[0], "monitoring.serviceMonitor.labels.release=kube-prometheus", "monitoring.serviceMonitor.interval=15s"]);

        var monitor = chart.OfKind("ServiceMonitor").Single();
        Assert.Equal("kube-prometheus", monitor.Str("metadata", "labels", "release"));
        var selector = monitor["spec"]!["selector"]!["matchLabels"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
        var selected = chart.OfKind("Service")
            .Where(s => selector.All(l => s.Str("metadata", "labels", l.Key) == l.Value))
            .Select(s => s.Str("metadata", "name"))
            .Order(StringComparer.Ordinal);
        Assert.Equal(["rel-jobs-manager", "rel-requests-proxy"], selected);
        var endpoint = monitor["spec"]!["endpoints"]![0]!;
        Assert.Equal("/metrics", endpoint.Str("path"));
        Assert.Equal("15s", endpoint.Str("interval"));
        Assert.All(chart.OfKind("Service").Where(s => selected.Contains(s.Str("metadata", "name"))),
            s => Assert.Contains(s["spec"]!["ports"]!.AsArray(), p => p.Str("name") == endpoint.Str("port")));
    }

    [Fact]
    public async Task Template_PrometheusRule_PromtoolChecksAndEveryAlertOfTheDocs()
    {
        var chart = await _helm.TemplateAsync([AllOn[1]], "monitoring:\n  prometheusRule:\n    refusalSpikePerSecond: 2.5\n");

        var rule = chart.OfKind("PrometheusRule").Single();
        var groups = rule["spec"]!["groups"]!;
        var alerts = groups.AsArray().SelectMany(g => g!["rules"]!.AsArray()).ToList();
        Assert.Equal(
            ["JobsManagerTokenRefreshFailing", "RequestsProxyKeyRingNotReady", "RequestsProxyKeyRingStale", "RequestsProxyKeyRingUpdateRefused",
             "RequestsProxyRefusalSpike", "RequestsProxyRevocationListNearLimit", "RequestsProxyRevocationUpdateRefused", "RequestsProxyRevocationWriteFailing"],
            alerts.Select(a => a.Str("alert")!).Order(StringComparer.Ordinal));
        Assert.All(alerts, a => Assert.Contains("namespace=\"jobs\"", a.Str("expr"), StringComparison.Ordinal));
        Assert.EndsWith("> 2.5", alerts.Single(a => a.Str("alert") == "RequestsProxyRefusalSpike").Str("expr"), StringComparison.Ordinal);
        Assert.EndsWith("> 0.8", alerts.Single(a => a.Str("alert") == "RequestsProxyRevocationListNearLimit").Str("expr"), StringComparison.Ordinal);

        await PromtoolCheckRulesAsync(new JsonObject { ["groups"] = groups.DeepClone() });
    }

    [Fact]
    public async Task Template_Dashboard_SidecarConfigMapWithTheShippedJsonAndPromtoolValidQueries()
    {
        var chart = await _helm.TemplateAsync([AllOn[2], "monitoring.dashboard.annotations.grafana_folder=ML"]);

        var map = chart.Get("ConfigMap", "rel-requests-proxy-dashboard");
        Assert.Equal("1", map.Str("metadata", "labels", "grafana_dashboard"));
        Assert.Equal("ML", map.Str("metadata", "annotations", "grafana_folder"));
        var json = map.Str("data", "requests-proxy.json")!;
        var shipped = File.ReadAllText(Path.Combine(HelmChart.ChartPath, "dashboards", "requests-proxy.json"));
        Assert.Equal(shipped.TrimEnd(), json.TrimEnd());
        var dashboard = JsonNode.Parse(json)!;
        var expressions = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray()).Select(t => t.Str("expr")!).ToList();
        Assert.True(expressions.Count >= 10);

        // Grafana's variables become what Grafana would put there; then each query must parse as PromQL.
        var rules = new JsonArray([.. expressions.Select((e, i) => (JsonNode)new JsonObject
        {
            ["record"] = $"dashboard:query_{i}",
            ["expr"] = e.Replace("$__rate_interval", "5m", StringComparison.Ordinal).Replace("$namespace", "jobs", StringComparison.Ordinal),
        })]);
        await PromtoolCheckRulesAsync(new JsonObject { ["groups"] = new JsonArray(new JsonObject { ["name"] = "dashboard", ["rules"] = rules }) });
    }

    private async Task PromtoolCheckRulesAsync(JsonObject ruleFile)
    {
        // JSON is YAML: promtool reads it as a rule file.
        var path = Path.Combine(_helm.Home, $"rules-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, ruleFile.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var result = await ToolProcess.RunAsync(await PromtoolBinary.GetPathAsync(), ["check", "rules", path], _helm.Home);
        Assert.True(result.Succeeded, result.StandardOutput + result.StandardError);
        Assert.Contains("SUCCESS", result.StandardOutput, StringComparison.Ordinal);
    }
}

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// Object names are DNS labels (at most 63 characters). Release names of 48–53 characters used to
/// truncate the proxy Service and its <c>-pods</c> headless Service to the same name.
/// </summary>
public sealed class NameCollisionTests
{
    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        foreach (var length in new[] { 1, 30, 46, 47, 48, 49, 50, 51, 52, 53 })
        {
            data.Add(length);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public async Task Template_ReleaseNameLength_EveryNameUniquePerKindAndAtMost63(int length)
    {
        // Helm allows release names of up to 53 characters; a name of the same letter is the worst case for prefixes.
        var release = new string('r', length - 1) + "x";
        using var helm = new HelmChart { ReleaseName = release };
        var chart = await helm.TemplateAsync(["networkPolicy.enabled=true", "monitoring.serviceMonitor.enabled=true", "monitoring.prometheusRule.enabled=true", "monitoring.dashboard.enabled=true"]);

        var names = chart.Objects.Select(o => (Kind: o.Str("kind")!, Name: o.Str("metadata", "name")!)).ToList();
        Assert.All(names.Where(n => n.Kind is "Service" or "Deployment" or "ServiceAccount" or "PodDisruptionBudget" or "NetworkPolicy"),
            n => Assert.True(n.Name.Length <= 63 && System.Text.RegularExpressions.Regex.IsMatch(n.Name, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), $"{n.Kind}/{n.Name} is not a DNS label"));
        var duplicates = names.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => $"{g.Key.Kind}/{g.Key.Name}").ToList();
        Assert.Empty(duplicates);
        // The proxy, its headless -pods and -legacy-pods Services, the jobs-manager and the Secret admission webhook.
        Assert.Equal(5, chart.OfKind("Service").Select(s => s.Str("metadata", "name")).Distinct().Count());

        // What the jobs-manager is told must name the objects that exist.
        var services = chart.OfKind("Service").Select(s => s.Str("metadata", "name")!).ToHashSet();
        var jobsManager = chart.OfKind("Deployment").Single(d => d.Str("metadata", "labels", "app.kubernetes.io/component") == "jobs-manager").Str("metadata", "name")!;
        var env = chart.Env(jobsManager);
        Assert.Contains(new Uri(env["REQUESTS_PROXY_URL"]!).Host.Split('.')[0], services);
        Assert.Contains(env["REQUESTS_PROXY_PODS_DNS"]!.Split('.')[0], services);
        Assert.Contains(env["REQUESTS_PROXY_LEGACY_PODS_DNS"]!.Split('.')[0], services);
        // Every webhook (Secrets, Jobs, pods, ConfigMaps) names the Service that exists.
        var webhooks = chart.OfKind("ValidatingWebhookConfiguration").SelectMany(c => c["webhooks"]!.AsArray()).ToList();
        Assert.Equal(5, webhooks.Count);
        Assert.All(webhooks, webhook => Assert.Contains(webhook!.Str("clientConfig", "service", "name")!, services));
    }

    [Fact]
    public async Task Template_ShortRelease_NamesUnchanged()
    {
        using var helm = new HelmChart();
        var chart = await helm.TemplateAsync();

        Assert.NotNull(chart.Find("Service", "rel-requests-proxy"));
        Assert.NotNull(chart.Find("Service", "rel-requests-proxy-pods"));
        Assert.NotNull(chart.Find("Service", "rel-requests-proxy-legacy-pods"));
        Assert.NotNull(chart.Find("Service", "rel-jobs-manager"));
        Assert.NotNull(chart.Find("NetworkPolicy", "rel-requests-proxy-training-jobs"));
    }
}

using System.Text.Json.Nodes;

namespace RequestsProxy.Chart.Tests;

/// <summary>The values a platform team reaches for first: each lands where Kubernetes reads it, on both Deployments.</summary>
public sealed class EscapeHatchTests : IDisposable
{
    private const string Proxy = "rel-requests-proxy";
    private const string JobsManager = "rel-jobs-manager";

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData("requestsProxy", Proxy)]
    [InlineData("jobsManager", JobsManager)]
    public async Task Template_EscapeHatches_Rendered(string section, string deployment)
    {
        var chart = await _helm.TemplateAsync(valuesYaml: $$"""
            {{section}}:
              extraEnv:
                - name: DOTNET_gcServer
                  value: "0"
                - name: FROM_SECRET
                  valueFrom:
                    secretKeyRef: {name: s, key: k}
              podAnnotations:
                example.com/team: ml
              podLabels:
                example.com/cost-center: "42"
              priorityClassName: platform-critical
              topologySpreadConstraints:
                - maxSkew: 1
                  topologyKey: topology.kubernetes.io/zone
                  whenUnsatisfiable: ScheduleAnyway
                  labelSelector:
                    matchLabels: {app.kubernetes.io/instance: rel}
              resources:
                requests: {cpu: 250m, memory: 64Mi}
                limits: {memory: 512Mi}
              service:
                annotations:
                  service.beta.kubernetes.io/aws-load-balancer-internal: "true"
            """);

        var env = chart.Container(deployment)["env"]!.AsArray();
        Assert.Equal("0", chart.Env(deployment)["DOTNET_gcServer"]);
        Assert.Equal("k", env.Single(e => e!.Str("name") == "FROM_SECRET")!.Str("valueFrom", "secretKeyRef", "key"));
        var template = (JsonObject)chart.Get("Deployment", deployment)["spec"]!["template"]!;
        Assert.Equal("ml", template.Str("metadata", "annotations", "example.com/team"));
        Assert.Equal("42", template.Str("metadata", "labels", "example.com/cost-center"));
        var pod = chart.PodSpec(deployment);
        Assert.Equal("platform-critical", pod.Str("priorityClassName"));
        Assert.Equal("topology.kubernetes.io/zone", pod["topologySpreadConstraints"]![0].Str("topologyKey"));
        var resources = chart.Container(deployment)["resources"]!;
        Assert.Equal("250m", resources.Str("requests", "cpu"));
        Assert.Equal("512Mi", resources.Str("limits", "memory"));
        Assert.Equal("true", chart.Get("Service", deployment).Str("metadata", "annotations", "service.beta.kubernetes.io/aws-load-balancer-internal"));
    }

    [Fact]
    public async Task Template_AccessLog_EnvOnlyWhenEnabled()
    {
        Assert.False((await _helm.TemplateAsync()).Env(Proxy).ContainsKey("REQUESTS_PROXY_ACCESS_LOG"));

        var env = (await _helm.TemplateAsync(["requestsProxy.accessLog.enabled=true", "requestsProxy.accessLog.every=10"])).Env(Proxy);

        Assert.Equal("true", env["REQUESTS_PROXY_ACCESS_LOG"]);
        Assert.Equal("10", env["REQUESTS_PROXY_ACCESS_LOG_EVERY"]);
    }

    [Theory]
    [InlineData(Proxy)]
    [InlineData(JobsManager)]
    public async Task Template_Defaults_NoPriorityNoSpreadNoServiceAnnotations(string deployment)
    {
        var chart = await _helm.TemplateAsync();

        var pod = chart.PodSpec(deployment);
        Assert.Null(pod["priorityClassName"]);
        Assert.Null(pod["topologySpreadConstraints"]);
        Assert.Null(chart.Get("Service", deployment)["metadata"]!["annotations"]);
        Assert.NotNull(chart.Container(deployment)["resources"]!["requests"]);
    }

    [Theory]
    [InlineData("requestsProxy:\n  extraEnv:\n    - value: x\n", "name")]
    [InlineData("requestsProxy:\n  extraEnv:\n    - name: A\n      bogus: x\n", "bogus")]
    [InlineData("jobsManager:\n  priorityClassName: Not_A_Name\n", "priorityClassName")]
    [InlineData("jobsManager:\n  topologySpreadConstraints:\n    - maxSkew: 1\n", "topologyKey")]
    [InlineData("requestsProxy:\n  service:\n    annotations:\n      a: 1\n", "annotations")]
    public async Task Template_BadEscapeHatch_RejectedBySchema(string values, string mentioned)
    {
        var result = await _helm.TemplateRawAsync(valuesYaml: values);

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains(mentioned, result.StandardError, StringComparison.Ordinal);
    }
}

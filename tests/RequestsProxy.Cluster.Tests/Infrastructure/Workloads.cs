using System.Text.Json;

namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>The workload image's two roles in a namespace: the upstream Deployment and trainer tallies.</summary>
public static class Workloads
{
    public const string UpstreamName = "rp-upstream";

    /// <summary>The upstream the proxy forwards to, as a Deployment + Service, Ready.</summary>
    public static async Task DeployUpstreamAsync(ClusterFixture cluster, string @namespace)
    {
        var manifest = $$$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: {{{UpstreamName}}}, namespace: {{{@namespace}}}}
            spec:
              replicas: 1
              selector: {matchLabels: {app: {{{UpstreamName}}}}}
              template:
                metadata: {labels: {app: {{{UpstreamName}}}}}
                spec:
                  enableServiceLinks: false
                  automountServiceAccountToken: false
                  securityContext: {runAsNonRoot: true, runAsUser: 1654, runAsGroup: 1654}
                  containers:
                  - name: upstream
                    image: {{{cluster.WorkloadImage}}}
                    imagePullPolicy: IfNotPresent
                    args: [upstream]
                    ports: [{containerPort: 8080, name: http}]
                    readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 2}
                    resources: {requests: {cpu: 20m, memory: 64Mi}}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: {{{UpstreamName}}}, namespace: {{{@namespace}}}}
            spec:
              selector: {app: {{{UpstreamName}}}}
              ports: [{port: 8080, targetPort: http, name: http}]
            """;
        var file = Path.Combine(Path.GetTempPath(), $"rp-upstream-{@namespace}.yaml");
        await File.WriteAllTextAsync(file, manifest);
        try
        {
            await cluster.KubectlCheckedAsync("apply", "-f", file);
        }
        finally
        {
            File.Delete(file);
        }

        await cluster.KubectlCheckedAsync("-n", @namespace, "rollout", "status", $"deployment/{UpstreamName}", "--timeout=180s");
    }

    /// <summary>The last tally line a trainer pod printed (null before its first one).</summary>
    public static async Task<TrainerTally?> LastTallyAsync(ClusterFixture cluster, string @namespace, string job)
    {
        var logs = await cluster.KubectlAsync("-n", @namespace, "logs", $"job/{job}", "--tail=30");
        if (!logs.Succeeded)
        {
            return null;
        }

        TrainerTally? last = null;
        foreach (var line in logs.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("{\"event\":\"tally\"", StringComparison.Ordinal))
            {
                last = JsonSerializer.Deserialize<TrainerTally>(line, JsonSerializerOptions.Web);
            }
        }

        return last;
    }

    /// <summary>Every 401 a trainer printed (each with its reason), for the failure message.</summary>
    public static async Task<IReadOnlyList<string>> UnauthorizedLinesAsync(ClusterFixture cluster, string @namespace, string job)
    {
        var logs = await cluster.KubectlAsync("-n", @namespace, "logs", $"job/{job}", "--tail=-1");
        return [.. logs.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("{\"event\":\"unauthorized\"", StringComparison.Ordinal))];
    }
}

using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.Cli.Tests.Support;
using RequestsProxy.JobsManager;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Testing.Files;

namespace RequestsProxy.Cli.Tests.Commands;

/// <summary>
/// <c>rpctl jobs start --namespace</c> against the real jobs-manager on its Kubernetes runtime, over
/// the FAKE API server, with two job namespaces: the job lands in the one named, and a namespace that
/// is not a job namespace is refused with the jobs-manager's own sentence.
/// </summary>
public sealed class JobsStartNamespaceTests : IAsyncLifetime
{
    private const string Release = "rel";
    private const string ReleaseNamespace = "rp";

    private readonly TempFolder _temp = new("rp-cli-jobs-ns");
    private FakeKubernetesApiServer _fake = null!;
    private JobsManagerHost _host = null!;

    public async Task InitializeAsync()
    {
        var keys = _temp.Combine("keys");
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "init", "--dir", keys)).ExitCode);
        _fake = await FakeKubernetesApiServer.StartAsync();
        _fake.SeedConfigMap(ReleaseNamespace, $"{Release}-requests-proxy-revoked", new Dictionary<string, string> { ["revoked.json"] = "[]" });
        // One job of the release-namespace layout (no namespace), which the jobs-manager may no longer read: listed with its problem.
        _fake.SeedConfigMap(ReleaseNamespace, $"{Release}-jobs-manager-state", new Dictionary<string, string> { ["jobs.json"] = """
            {"version":1,"jobs":[{"name":"old-1","createdAt":"2026-01-01T00:00:00+00:00","image":"trainer:1","command":[],"args":[],"scope":"results:write",
              "tokensIssued":1,"currentJti":"pEsJQHQT0e75NXcYfd07kw","tokensRevoked":false,
              "tokens":[{"jti":"pEsJQHQT0e75NXcYfd07kw","kid":"v1","sub":"old-1","iat":4102444800,"exp":4102448400}]}]}
            """ });
        _fake.RbacRules =
        [
            new(["get", "update"], [""], ["configmaps"], null, ReleaseNamespace),
            .. new[] { "a-jobs", "b-jobs" }.Select(ns => new FakeRbacRule(["*"], ["*"], ["*"], null, ns)),
        ];
        _fake.SeedConfigMap(ReleaseNamespace, $"{Release}-requests-proxy-legacy-tokens", new Dictionary<string, string> { ["legacy-tokens.json"] = "[]" });
        _host = await JobsManagerHost.StartAsync(
            keys,
            o =>
            {
                o.Runtime = JobRuntimeKind.Kubernetes;
                o.Namespace = ReleaseNamespace;
                o.JobNamespaces = ["a-jobs", "b-jobs"];
                o.ReleaseName = Release;
                o.RevokedConfigMapName = $"{Release}-requests-proxy-revoked";
                o.StateConfigMapName = $"{Release}-jobs-manager-state";
                o.LegacyTokensConfigMapName = $"{Release}-requests-proxy-legacy-tokens";
            },
            b => b.Services.AddSingleton<IKubernetes>(_fake.CreateClient(ReleaseNamespace)));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _fake.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task Start_NamespaceGiven_JobRunsThere()
    {
        var start = await Rpctl.RunAsync(["jobs", "start", "ns-job", "--image", "registry.example/trainer:1", "--namespace", "b-jobs", "-o", "json", .. _host.Flags]);

        Assert.True(start.ExitCode == 0, start.ToString());
        using (var document = JsonDocument.Parse(start.Stdout))
        {
            Assert.Equal("b-jobs", document.RootElement.GetProperty("namespace").GetString());
        }

        Assert.NotNull(_fake.Find<V1Job>("b-jobs", "ns-job"));
        Assert.Null(_fake.Find<V1Job>("a-jobs", "ns-job"));
        var list = await Rpctl.RunAsync(["jobs", "list", .. _host.Flags]);
        Assert.Contains("NAMESPACE", list.Stdout.Split('\n')[0], StringComparison.Ordinal);
        Assert.Contains(list.Stdout.Split('\n'), l => l.StartsWith("ns-job ", StringComparison.Ordinal) && l.Contains(" b-jobs ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_JobOfTheReleaseNamespaceLayout_UnreachableWithItsProblemBelowTheTable()
    {
        var list = await Rpctl.RunAsync(["jobs", "list", .. _host.Flags]);

        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = list.Stdout.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("old-1 ", StringComparison.Ordinal) && l.Contains(" unreachable ", StringComparison.Ordinal) && l.Contains($" {ReleaseNamespace} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("old-1 (unreachable): namespace 'rp' is not one of the jobs-manager's job namespaces and it may not read Jobs there", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--namespace")]
    [InlineData("-n")]
    public async Task Start_NotAJobNamespace_RefusedWithTheServersMessage_Exit2_NoJob(string flag)
    {
        var start = await Rpctl.RunAsync(["jobs", "start", "ns-job", "--image", "registry.example/trainer:1", flag, ReleaseNamespace, .. _host.Flags]);

        Assert.Equal(2, start.ExitCode);
        Assert.Equal("", start.Stdout);
        Assert.Contains("HTTP 400: 'namespace' is 'rp', not a job namespace of this jobs-manager (it runs jobs in 'a-jobs', 'b-jobs') (invalid_request)", start.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(_fake.Requests, r => r is { Verb: "create", Resource: "jobs" });
    }
}

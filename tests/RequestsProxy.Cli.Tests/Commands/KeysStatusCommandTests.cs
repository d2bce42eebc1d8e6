using System.Globalization;
using System.Text.Json;
using RequestsProxy.Cli.Tests.Support;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Tests.Commands;

/// <summary>
/// <c>rpctl keys status</c> and the usage-aware <c>keys retire</c>, with a real jobs-manager signing
/// tokens from the very ring rpctl manages.
/// </summary>
public sealed class KeysStatusCommandTests : IDisposable
{
    private const string LongRunning = "while true; do sleep 0.2; done";

    private readonly TempFolder _temp = new("rp-cli-status");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task RetireInterlock_LiveTokensBlockRetire_UntilTheJobStops()
    {
        var keys = _temp.Combine("keys");
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "init", "--dir", keys)).ExitCode);
        await using var host = await JobsManagerHost.StartAsync(keys);
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "start", "job-1", .. host.Flags, "--", "/bin/sh", "-c", LongRunning])).ExitCode);
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "add", "--dir", keys)).ExitCode);
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "promote", "--dir", keys, "v2")).ExitCode);
        host.ReloadKeys();

        // Long after v1's demotion by its history: only the jobs-manager knows job-1 still holds a v1 token.
        var later = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 120).ToString(CultureInfo.InvariantCulture);
        var status = await Rpctl.RunAsync(["keys", "status", "--dir", keys, "--ttl", "60", "--now", later, .. host.Flags]);
        Assert.True(status.ExitCode == 0, status.ToString());
        var rows = status.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("LIVE TOKENS", rows[1], StringComparison.Ordinal);
        var v1 = Assert.Single(rows, r => r.StartsWith("v1 ", StringComparison.Ordinal));
        Assert.Matches(@"\s1\s+unsafe: the jobs-manager reports 1 live token\(s\) signed with it", v1);
        var v2 = Assert.Single(rows, r => r.StartsWith("v2 ", StringComparison.Ordinal));
        Assert.Contains("yes", v2, StringComparison.Ordinal);
        Assert.Contains("unsafe: it is the active key", v2, StringComparison.Ordinal);

        var refused = await Rpctl.RunAsync(["keys", "retire", "--dir", keys, "v1", "--ttl", "1", "--leeway", "0", .. host.Flags]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("live token", refused.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(keys, "v1")));
        var refusedLater = await Rpctl.RunAsync(["keys", "retire", "--dir", keys, "v1", "--ttl", "60", "--now", later, .. host.Flags]);
        Assert.Equal(1, refusedLater.ExitCode);
        Assert.Contains("would refuse to retire v1: the jobs-manager reports 1 live token", refusedLater.Stdout, StringComparison.Ordinal);

        // Stopping the job revokes its tokens: none of v1 is live any more.
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "stop", "job-1", .. host.Flags])).ExitCode);
        var json = await Rpctl.RunAsync(["keys", "status", "--dir", keys, "--ttl", "60", "--now", later, "--output", "json", .. host.Flags]);
        Assert.True(json.ExitCode == 0, json.ToString());
        using (var document = JsonDocument.Parse(json.Stdout))
        {
            Assert.True(document.RootElement.GetProperty("usageConsulted").GetBoolean());
            var first = document.RootElement.GetProperty("keys")[0];
            Assert.Equal("v1", first.GetProperty("kid").GetString());
            Assert.Equal(0, first.GetProperty("liveTokens").GetInt32());
            Assert.True(first.GetProperty("safeToRetire").GetBoolean());
            Assert.Contains("the jobs-manager reports no live token", first.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        await Task.Delay(TimeSpan.FromSeconds(2.2));
        var retire = await Rpctl.RunAsync(["keys", "retire", "--dir", keys, "v1", "--ttl", "1", "--leeway", "0", .. host.Flags]);
        Assert.True(retire.ExitCode == 0, retire.ToString());
        Assert.Equal(["v2"], KeyRingLoader.Load(keys).Ring!.Kids);
    }

    [Fact]
    public async Task Retire_NoTtlGiven_JudgedByTheJobsManagersOwnTokenLifetime()
    {
        var keys = _temp.Combine("keys");
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "init", "--dir", keys)).ExitCode);
        await using var host = await JobsManagerHost.StartAsync(keys);
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "add", "--dir", keys)).ExitCode);
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "promote", "--dir", keys, "v2")).ExitCode);
        var lifetime = (long)JobsManagerHost.TokenLifetime.TotalSeconds;

        var status = await Rpctl.RunAsync(["keys", "status", "--dir", keys, "-o", "json", .. host.Flags]);
        Assert.True(status.ExitCode == 0, status.ToString());
        long promoted;
        using (var document = JsonDocument.Parse(status.Stdout))
        {
            promoted = document.RootElement.GetProperty("keys")[0].GetProperty("demoted").GetInt64();
            Assert.Equal(lifetime, document.RootElement.GetProperty("tokenTtlSeconds").GetInt64());
            Assert.Equal(30, document.RootElement.GetProperty("leewaySeconds").GetInt64());
            Assert.Equal("from the jobs-manager", document.RootElement.GetProperty("timingSource").GetString());
        }

        // One jobs-manager lifetime plus its leeway after the demotion (not the 90-day default) it would be safe.
        var before = await Rpctl.RunAsync(["keys", "retire", "--dir", keys, "v1", "--now", (promoted + lifetime + 29).ToString(CultureInfo.InvariantCulture), .. host.Flags]);
        Assert.Equal(1, before.ExitCode);
        Assert.Contains($"token lifetime {lifetime} s, leeway 30 s (from the jobs-manager)", before.Stdout, StringComparison.Ordinal);
        var after = await Rpctl.RunAsync(["keys", "retire", "--dir", keys, "v1", "--now", (promoted + lifetime + 30).ToString(CultureInfo.InvariantCulture), .. host.Flags]);
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.Contains("would retire v1", after.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(keys, "v1")));

        // Without the jobs-manager the same instant is judged by the 90-day default, and says so.
        var alone = await Rpctl.RunAsync("keys", "retire", "--dir", keys, "v1", "--now", (promoted + lifetime + 30).ToString(CultureInfo.InvariantCulture));
        Assert.Equal(1, alone.ExitCode);
        Assert.Contains("token lifetime 7776000 s", alone.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_Json_KeyRingIsThePathItself()
    {
        var keys = _temp.Combine("rot");
        await Rpctl.RunAsync("keys", "init", "--dir", keys);

        var status = await Rpctl.RunAsync("keys", "status", "--dir", keys, "-o", "json");

        using var document = JsonDocument.Parse(status.Stdout);
        Assert.Equal(keys, document.RootElement.GetProperty("keyRing").GetString());
        Assert.Equal("folder", document.RootElement.GetProperty("store").GetString());
    }

    [Fact]
    public async Task Retire_Force_DoesNotNeedTheJobsManager()
    {
        var keys = _temp.Combine("keys");
        await Rpctl.RunAsync("keys", "init", "--dir", keys);
        await Rpctl.RunAsync("keys", "add", "--dir", keys);
        await Rpctl.RunAsync("keys", "promote", "--dir", keys, "v2");
        var token = _temp.Combine("token");
        File.WriteAllText(token, "t");

        // The active key is refused as such (exit 1), before the jobs-manager is asked anything.
        var active = await Rpctl.RunAsync("keys", "retire", "--dir", keys, "v2", "--jobs-manager", "http://127.0.0.1:1", "--admin-token-file", token);
        Assert.Equal(1, active.ExitCode);
        Assert.Contains("active key", active.Stderr, StringComparison.Ordinal);

        var unreachable = await Rpctl.RunAsync("keys", "retire", "--dir", keys, "v1", "--jobs-manager", "http://127.0.0.1:1", "--admin-token-file", token);
        Assert.Equal(2, unreachable.ExitCode);
        Assert.Contains("cannot reach the jobs-manager", unreachable.Stderr, StringComparison.Ordinal);

        var forced = await Rpctl.RunAsync("keys", "retire", "--dir", keys, "v1", "--force", "--jobs-manager", "http://127.0.0.1:1", "--admin-token-file", token);
        Assert.True(forced.ExitCode == 0, forced.ToString());
    }

    [Fact]
    public async Task Status_WithoutJobsManager_ShowsHistory_AndSaysLiveTokensAreUnknown()
    {
        var keys = _temp.Combine("keys");
        await Rpctl.RunAsync("keys", "init", "--dir", keys);
        await Rpctl.RunAsync("keys", "add", "--dir", keys);

        var status = await Rpctl.RunAsync("keys", "status", "--dir", keys);

        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("live tokens unknown", status.Stdout, StringComparison.Ordinal);
        var v2 = Assert.Single(status.Stdout.Split('\n'), r => r.StartsWith("v2 ", StringComparison.Ordinal));
        Assert.Contains("?", v2, StringComparison.Ordinal);
        Assert.Contains("safe: it never signed a token", v2, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_Kubernetes_WithJobsManager_CombinesSecretHistoryAndUsage()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        var kubeconfig = server.WriteKubeconfig(_temp.Combine("kube"), "ml");
        string[] target = ["--kubernetes", "--kubeconfig", kubeconfig, "--release", "rp"];
        Assert.Equal(0, (await Rpctl.RunAsync(["keys", "init", .. target])).ExitCode);
        Assert.Equal(0, (await Rpctl.RunAsync(["keys", "add", .. target])).ExitCode);

        // The jobs-manager's ring: the Secret's content as the kubelet would mount it.
        var secret = server.Find<k8s.Models.V1Secret>("ml", "rp-requests-proxy-keys")!;
        var mounted = _temp.Combine("mounted");
        Directory.CreateDirectory(mounted);
        foreach (var (name, value) in secret.Data)
        {
            File.WriteAllBytes(Path.Combine(mounted, name), value);
        }

        await using var host = await JobsManagerHost.StartAsync(mounted);
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "start", "job-1", .. host.Flags, "--", "/bin/sh", "-c", LongRunning])).ExitCode);

        var status = await Rpctl.RunAsync(["keys", "status", .. target, "-o", "json", .. host.Flags]);

        Assert.True(status.ExitCode == 0, status.ToString());
        using var document = JsonDocument.Parse(status.Stdout);
        Assert.Equal("ml/rp-requests-proxy-keys", document.RootElement.GetProperty("keyRing").GetString());
        Assert.Equal("kubernetes-secret", document.RootElement.GetProperty("store").GetString());
        var rows = document.RootElement.GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("kid").GetString()!);
        Assert.Equal(1, rows["v1"].GetProperty("liveTokens").GetInt32());
        Assert.True(rows["v1"].GetProperty("active").GetBoolean());
        Assert.NotEqual(JsonValueKind.Null, rows["v1"].GetProperty("promoted").ValueKind);
        Assert.Equal(0, rows["v2"].GetProperty("liveTokens").GetInt32());
        Assert.True(rows["v2"].GetProperty("safeToRetire").GetBoolean());
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "stop", "job-1", .. host.Flags])).ExitCode);
    }
}

using System.Text.Json;
using RequestsProxy.Cli.Tests.Support;

namespace RequestsProxy.Cli.Tests.Commands;

/// <summary><c>rpctl jobs</c> against the real jobs-manager (Local runtime) on loopback.</summary>
public sealed class JobsCommandTests() : AgainstJobsManager("rp-cli-jobs")
{
    [Fact]
    public async Task StartListStop_RoundTrip_ReadableTablesAndJson()
    {
        var start = await Rpctl.RunAsync(["jobs", "start", "job-1", "--scope", "results:write", .. Host.Flags, "--", "/bin/sh", "-c", LongRunning]);
        Assert.True(start.ExitCode == 0, start.ToString());
        var header = start.Stdout.Split('\n')[0];
        Assert.StartsWith("NAME", header, StringComparison.Ordinal);
        Assert.Contains("TOKEN EXPIRES", header, StringComparison.Ordinal);
        Assert.Contains("job-1", start.Stdout, StringComparison.Ordinal);
        Assert.Contains("results:write", start.Stdout, StringComparison.Ordinal);

        var list = await Rpctl.RunAsync(["jobs", "list", .. Host.Flags]);
        Assert.Equal(0, list.ExitCode);
        var row = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.StartsWith("job-1", row, StringComparison.Ordinal);
        Assert.Contains(" v1 ", row, StringComparison.Ordinal);

        var json = await Rpctl.RunAsync(["jobs", "list", "--output", "json", .. Host.Flags]);
        Assert.Equal(0, json.ExitCode);
        using (var document = JsonDocument.Parse(json.Stdout))
        {
            var job = Assert.Single(document.RootElement.GetProperty("jobs").EnumerateArray());
            Assert.Equal("job-1", job.GetProperty("name").GetString());
            Assert.Equal("v1", job.GetProperty("token").GetProperty("kid").GetString());
        }

        var stop = await Rpctl.RunAsync(["jobs", "stop", "job-1", .. Host.Flags]);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.StartsWith("stopped job-1: 1 token(s) revoked", stop.Line, StringComparison.Ordinal);

        var again = await Rpctl.RunAsync(["jobs", "stop", "job-1", "-o", "json", .. Host.Flags]);
        Assert.Equal(0, again.ExitCode);
        using (var document = JsonDocument.Parse(again.Stdout))
        {
            Assert.False(document.RootElement.GetProperty("known").GetBoolean());
        }

        Assert.Equal("no jobs", (await Rpctl.RunAsync(["jobs", "list", .. Host.Flags])).Line);
    }

    [Fact]
    public async Task StartStop_JobsManagersAuditTrail_NamesTheUserAndHostRunningRpctl()
    {
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "start", "job-a", .. Host.Flags, "--", "/bin/sh", "-c", LongRunning])).ExitCode);
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "stop", "job-a", .. Host.Flags])).ExitCode);

        var lines = Host.AuditLog.GetSnapshot().Select(r => r.Message).ToList();
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("audit start: job job-a got token ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("audit revoke (stop): job job-a, 1 tokens ", lines[1], StringComparison.Ordinal);
        var actor = $"{Environment.UserName}@{Environment.MachineName}";
        Assert.All(lines, l => Assert.EndsWith($"by api 127.0.0.1 as {actor}", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_Twice_IsRefusedWithTheApisMessage_Exit1()
    {
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "start", "job-1", .. Host.Flags, "--", "/bin/sh", "-c", LongRunning])).ExitCode);

        var duplicate = await Rpctl.RunAsync(["jobs", "start", "job-1", .. Host.Flags, "--", "/bin/true"]);

        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("HTTP 409", duplicate.Stderr, StringComparison.Ordinal);
        Assert.Contains("(conflict)", duplicate.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "stop", "job-1", .. Host.Flags])).ExitCode);
    }

    [Fact]
    public async Task Start_InvalidRequest_PrintsTheApisErrors_Exit2()
    {
        var invalid = await Rpctl.RunAsync(["jobs", "start", "Job_1", "--env", "REQUESTS_PROXY_TOKEN_FILE=/etc/passwd", .. Host.Flags, "--", "/bin/true"]);

        Assert.Equal(2, invalid.ExitCode);
        Assert.Contains("HTTP 400", invalid.Stderr, StringComparison.Ordinal);
        Assert.Contains("'name' must be lowercase", invalid.Stderr, StringComparison.Ordinal);
        Assert.Contains("is reserved", invalid.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongAdminToken_Exit2_SaysWhereTheTokenComesFrom()
    {
        var file = Temp.Combine("wrong-token");
        File.WriteAllText(file, "not-the-admin-token\n");

        var list = await Rpctl.RunAsync("jobs", "list", "--jobs-manager", Host.Url, "--admin-token-file", file);

        Assert.Equal(2, list.ExitCode);
        Assert.Contains("HTTP 401", list.Stderr, StringComparison.Ordinal);
        Assert.Contains("invalid_token", list.Stderr, StringComparison.Ordinal);
        Assert.Contains("--admin-token-file", list.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UrlAndTokenFromEnvironment_AreUsed()
    {
        var environment = new Dictionary<string, string?>
        {
            ["RPCTL_JOBS_MANAGER_URL"] = Host.Url,
            ["RPCTL_ADMIN_TOKEN"] = JobsManagerHost.AdminToken,
        };

        var list = await Rpctl.RunWithEnvironmentAsync(environment, "jobs", "list");

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal("no jobs", list.Line);
    }

    [Fact]
    public async Task MissingUrlOrToken_Exit2()
    {
        var noUrl = await Rpctl.RunWithEnvironmentAsync(new Dictionary<string, string?> { ["RPCTL_ADMIN_TOKEN"] = "x" }, "jobs", "list");
        Assert.Equal(2, noUrl.ExitCode);
        Assert.Contains("RPCTL_JOBS_MANAGER_URL", noUrl.Stderr, StringComparison.Ordinal);

        var noToken = await Rpctl.RunAsync("jobs", "list", "--jobs-manager", Host.Url);
        Assert.Equal(2, noToken.ExitCode);
        Assert.Contains("RPCTL_ADMIN_TOKEN", noToken.Stderr, StringComparison.Ordinal);

        var badUrl = await Rpctl.RunAsync("jobs", "list", "--jobs-manager", "ftp://x", "--admin-token-file", Host.AdminTokenFile);
        Assert.Equal(2, badUrl.ExitCode);
    }

    [Fact]
    public async Task UnreachableJobsManager_Exit2()
    {
        // A port that was just free: nothing listens there.
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var list = await Rpctl.RunAsync("jobs", "list", "--jobs-manager", $"http://127.0.0.1:{port}", "--admin-token-file", Host.AdminTokenFile);

        Assert.Equal(2, list.ExitCode);
        Assert.Contains("cannot reach the jobs-manager", list.Stderr, StringComparison.Ordinal);
    }
}

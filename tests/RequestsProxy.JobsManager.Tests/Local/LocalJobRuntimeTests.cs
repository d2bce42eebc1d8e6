using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Local;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Local;

/// <summary>The Local runtime with real /bin/sh children and real files.</summary>
public sealed class LocalJobRuntimeTests
{
    // Copies the token file to seen (atomically, via rename) in a loop, as a client that reads the file on each request.
    private const string Watcher =
        "echo $$ > pid; printf '%s' \"$REQUESTS_PROXY_URL\" > url; printf '%s' \"$TRAINING_EPOCHS\" > epochs; " +
        "while true; do cat \"$REQUESTS_PROXY_TOKEN_FILE\" > seen.tmp 2>/dev/null && mv seen.tmp seen; sleep 0.05; done";

    private static CoreHarness Harness() => new(
        runtimeFactory: o => new LocalJobRuntime(o, NullLogger<LocalJobRuntime>.Instance),
        storeFactory: LocalStores.Revocation);

    [Fact]
    public async Task Start_ChildProcess_ReadsTokenFileAndEnvironment()
    {
        using var h = Harness();
        await using var runtime = (LocalJobRuntime)h.Runtime;
        var spec = CoreHarness.Spec("job-1", null, "/bin/sh", "-c", Watcher) with { Env = new Dictionary<string, string> { ["TRAINING_EPOCHS"] = "7" } };

        var result = await h.Manager.StartAsync(spec, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var folder = runtime.JobDirectory("job-1");
        var tokenFile = runtime.TokenFile("job-1");
        Assert.Equal(tokenFile, result.Value!.TokenFile);
        await Eventually.TrueAsync(() => File.Exists(Path.Combine(folder, "seen")), "the child read its token");
        Assert.Equal(File.ReadAllText(tokenFile), File.ReadAllText(Path.Combine(folder, "seen")));
        Assert.Equal("http://127.0.0.1:8888", File.ReadAllText(Path.Combine(folder, "url")));
        Assert.Equal("7", File.ReadAllText(Path.Combine(folder, "epochs")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        }

        Assert.Equal(JobState.Running, h.Manager.Get("job-1")!.State);
        await h.Manager.StopAsync("job-1", CancellationToken.None);
    }

    [Fact]
    public async Task Start_RelativeStateDirectory_JobGetsAnAbsoluteTokenPathItCanRead()
    {
        using var folder = new RequestsProxy.Testing.Files.TempFolder("rp-relative-state");
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, folder.Combine("state"));
        Assert.False(Path.IsPathRooted(relative));
        var options = new JobsManagerOptions { TokenLifetime = TimeSpan.FromHours(1), RefreshCheckInterval = TimeSpan.FromMinutes(1), StateDirectory = relative, RevokedDirectory = folder.Combine("revoked") };
        using var h = new CoreHarness(options: options, runtimeFactory: o => new LocalJobRuntime(o, NullLogger<LocalJobRuntime>.Instance), storeFactory: LocalStores.Revocation);
        await using var runtime = (LocalJobRuntime)h.Runtime;

        // The child runs in its job folder: the path it is given must work from there.
        var result = await h.Manager.StartAsync(CoreHarness.Spec("job-1", null, "/bin/sh", "-c", Watcher), CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.True(Path.IsPathRooted(result.Value!.TokenFile), result.Value.TokenFile);
        Assert.Equal(Path.GetFullPath(Path.Combine(folder.Combine("state"), "jobs", "job-1", "token")), result.Value.TokenFile);
        var seen = Path.Combine(runtime.JobDirectory("job-1"), "seen");
        await Eventually.TrueAsync(() => File.Exists(seen), "the child read its token through the path it was given");
        Assert.Equal(File.ReadAllText(result.Value.TokenFile), File.ReadAllText(seen));
        await h.Manager.StopAsync("job-1", CancellationToken.None);
    }

    [Fact]
    public async Task Refresh_TokenFileReplacedInPlace_RunningChildSeesNewToken()
    {
        using var h = Harness();
        await using var runtime = (LocalJobRuntime)h.Runtime;
        await h.Manager.StartAsync(CoreHarness.Spec("job-1", null, "/bin/sh", "-c", Watcher), CancellationToken.None);
        var seen = Path.Combine(runtime.JobDirectory("job-1"), "seen");
        await Eventually.TrueAsync(() => File.Exists(seen), "the child read its token");
        var first = File.ReadAllText(runtime.TokenFile("job-1"));

        h.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await h.Manager.RefreshAsync(CancellationToken.None));

        var second = File.ReadAllText(runtime.TokenFile("job-1"));
        Assert.NotEqual(first, second);
        await Eventually.TrueAsync(() => File.ReadAllText(seen) == second, "the child read the refreshed token");
        await h.Manager.StopAsync("job-1", CancellationToken.None);
    }

    [Fact]
    public async Task Stop_KillsChild_DeletesTokenFile_AndRevokesInRevokedJson()
    {
        using var h = Harness();
        await using var runtime = (LocalJobRuntime)h.Runtime;
        var started = await h.Manager.StartAsync(CoreHarness.Spec("job-1", null, "/bin/sh", "-c", Watcher), CancellationToken.None);
        var pidFile = Path.Combine(runtime.JobDirectory("job-1"), "pid");
        await Eventually.TrueAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0, "the child wrote its pid");
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        var stopped = await h.Manager.StopAsync("job-1", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.False(File.Exists(runtime.TokenFile("job-1")));
        Assert.False(ProcessProbe.IsAlive(pid));
        var list = RevocationFile.Read(((FileDocumentStore<RevocationList>)h.Store).FilePath);
        var entry = Assert.Single(list.Entries);
        Assert.Equal(started.Value!.Token!.Jti, entry.Jti);
        Assert.Equal(started.Value.Token.ExpiresAt!.Value.ToUnixTimeSeconds(), entry.Exp);
        Assert.Equal("job-1", entry.Sub);
    }

    [Fact]
    public async Task States_ChildExits_SucceededOrFailedByExitCode()
    {
        using var h = Harness();
        await using var runtime = (LocalJobRuntime)h.Runtime;
        await h.Manager.StartAsync(CoreHarness.Spec("ok", null, "/bin/sh", "-c", "exit 0"), CancellationToken.None);
        await h.Manager.StartAsync(CoreHarness.Spec("bad", null, "/bin/sh", "-c", "echo boom >&2; exit 3"), CancellationToken.None);

        await Eventually.TrueAsync(() =>
        {
            h.Manager.SyncStatesAsync(CancellationToken.None).GetAwaiter().GetResult();
            return h.Manager.Get("ok")!.State == JobState.Succeeded && h.Manager.Get("bad")!.State == JobState.Failed;
        }, "both children exited");
        await Eventually.TrueAsync(() => File.ReadAllText(Path.Combine(runtime.JobDirectory("bad"), "stderr.log")).Contains("boom", StringComparison.Ordinal), "stderr captured");
    }

    [Fact]
    public async Task Start_ChildDoesNotInheritJobsManagerSettings()
    {
        var name = "JOBS_MANAGER_TEST_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(name, "secret-path");
        try
        {
            using var h = Harness();
            await using var runtime = (LocalJobRuntime)h.Runtime;
            await h.Manager.StartAsync(CoreHarness.Spec("job-1", null, "/bin/sh", "-c", $"printf '%s' \"${{{name}:-absent}}\" > out.tmp && mv out.tmp out"), CancellationToken.None);
            var output = Path.Combine(runtime.JobDirectory("job-1"), "out");
            await Eventually.TrueAsync(() => File.Exists(output), "the child wrote its output");
            Assert.Equal("absent", File.ReadAllText(output));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public async Task Start_MissingProgram_BackendErrorAndTokenRevoked()
    {
        using var h = Harness();
        await using var runtime = (LocalJobRuntime)h.Runtime;

        var result = await h.Manager.StartAsync(CoreHarness.Spec("job-1", null, "/nonexistent/program"), CancellationToken.None);

        Assert.Equal(JobError.Backend, result.Error);
        Assert.Empty(h.Manager.List());
        Assert.False(File.Exists(runtime.TokenFile("job-1")));
        Assert.Single(RevocationFile.Read(((FileDocumentStore<RevocationList>)h.Store).FilePath).Entries);
    }

    [Fact]
    public void Validate_NoCommand_Invalid()
    {
        using var h = Harness();
        Assert.NotNull(h.Runtime.Validate(CoreHarness.Spec("job-1", "image:1")));
    }
}

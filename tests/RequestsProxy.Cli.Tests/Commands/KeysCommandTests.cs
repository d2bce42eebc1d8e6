using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Tests.Commands;

public sealed class KeysCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Init_CreatesV1Active64Alphanumerics_AndRefusesASecondInit()
    {
        var dir = _temp.Combine("keys");
        var init = await Rpctl.RunAsync("keys", "init", "--dir", dir);

        Assert.Equal((0, "v1"), (init.ExitCode, init.Line));
        Assert.Equal("v1", File.ReadAllText(Path.Combine(dir, "active")).Trim());
        var key = File.ReadAllText(Path.Combine(dir, "v1")).Trim();
        Assert.Equal(64, key.Length);
        Assert.All(key, c => Assert.True(char.IsAsciiLetterOrDigit(c)));

        var again = await Rpctl.RunAsync("keys", "init", "--dir", dir);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal(key, File.ReadAllText(Path.Combine(dir, "v1")).Trim());
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task InitAndAdd_KeysAreTheOwnersAlone()
    {
        var dir = _temp.Combine("keys");
        await Rpctl.RunAsync("keys", "init", "--dir", dir);
        await Rpctl.RunAsync("keys", "add", "--dir", dir);

        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(dir) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute));
        Assert.Equal(ownerOnly, File.GetUnixFileMode(Path.Combine(dir, "v1")));
        Assert.Equal(ownerOnly, File.GetUnixFileMode(Path.Combine(dir, "v2")));
    }

    [Fact]
    public async Task Add_AfterRetire_NeverReusesARetiredKid()
    {
        var dir = _temp.Combine("keys");
        await Rpctl.RunAsync("keys", "init", "--dir", dir);
        await Rpctl.RunAsync("keys", "add", "--dir", dir);
        await Rpctl.RunAsync("keys", "promote", "--dir", dir, "v2");
        await Rpctl.RunAsync("keys", "promote", "--dir", dir, "v1");
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "retire", "--dir", dir, "v2", "--force")).ExitCode);

        var added = await Rpctl.RunAsync("keys", "add", "--dir", dir);

        Assert.Equal((0, "v3"), (added.ExitCode, added.Line));
        Assert.Equal(["v1", "v3"], KeyRingLoader.Load(dir).Ring!.Kids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Rotation_AddPromoteRetire_FollowsTheProtocol()
    {
        var dir = _temp.Combine("keys");
        await Rpctl.RunAsync("keys", "init", "--dir", dir);

        Assert.Equal("v2", (await Rpctl.RunAsync("keys", "add", "--dir", dir)).Line);
        Assert.Equal("v1", KeyRingLoader.Load(dir).Ring!.ActiveKid);

        var retireActive = await Rpctl.RunAsync("keys", "retire", "--dir", dir, "v1", "--force");
        Assert.Equal(1, retireActive.ExitCode);
        Assert.Contains("active", retireActive.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, (await Rpctl.RunAsync("keys", "promote", "--dir", dir, "v2")).ExitCode);
        Assert.Equal("v2", KeyRingLoader.Load(dir).Ring!.ActiveKid);

        var unsafeRetire = await Rpctl.RunAsync("keys", "retire", "--dir", dir, "v1");
        Assert.Equal(1, unsafeRetire.ExitCode);
        Assert.Contains("--force", unsafeRetire.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dir, "v1")));

        // Judged at a later instant it would be safe, but a future --now only says so: nothing is removed.
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var dryRun = await Rpctl.RunAsync("keys", "retire", "--dir", dir, "v1", "--ttl", "60", "--now", (now + 120).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.StartsWith("dry run (--now ", dryRun.Line, StringComparison.Ordinal);
        Assert.Contains("nothing changed: would retire v1", dryRun.Line, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dir, "v1")));

        // For real once one (short) lifetime plus leeway has passed on the clock.
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        var afterLifetime = await Rpctl.RunAsync("keys", "retire", "--dir", dir, "v1", "--ttl", "1", "--leeway", "0");
        Assert.True(afterLifetime.ExitCode == 0, afterLifetime.ToString());
        Assert.Equal("retired: v1", afterLifetime.Line);
        Assert.False(File.Exists(Path.Combine(dir, "v1")));
        Assert.Equal(["v2"], KeyRingLoader.Load(dir).Ring!.Kids);
    }

    [Fact]
    public async Task Retire_NeverPromotedKey_IsSafe()
    {
        var dir = _temp.Combine("keys");
        await Rpctl.RunAsync("keys", "init", "--dir", dir);
        await Rpctl.RunAsync("keys", "add", "--dir", dir);
        var r = await Rpctl.RunAsync("keys", "retire", "--dir", dir, "v2");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
    }

    [Fact]
    public async Task RetireSafety_UsageWithUnreachableAndRevokedTokens_SaysWhy()
    {
        var dir = _temp.Combine("keys");
        var operations = new RequestsProxy.Cli.Keys.KeyRingOperations(new RequestsProxy.Cli.Keys.FolderKeyRingStore(dir), TimeProvider.System);
        await operations.InitAsync(CancellationToken.None);
        var v2 = await operations.AddAsync(CancellationToken.None);
        var document = await operations.ReadRequiredAsync(CancellationToken.None);
        var timing = RequestsProxy.Cli.Keys.TokenTiming.Default;

        // Live tokens of jobs the jobs-manager cannot reach pin the kid; the reason says who holds them and what frees them.
        var pinned = operations.RetireSafety(document, v2, timing, new Dictionary<string, RequestsProxy.JobsApi.KidUsageResponse>
        {
            [v2] = new(v2, false, true, LiveTokens: 2, CurrentTokens: 0, LatestExpiry: null, SafeToRetire: false, RevokedTokens: 3, UnreachableTokens: 1),
        });
        Assert.False(pinned.Safe);
        Assert.Contains("the jobs-manager reports 2 live token(s) signed with it (1 held by unreachable jobs outside the job namespaces: 'rpctl jobs stop NAME' revokes them)", pinned.Reason, StringComparison.Ordinal);

        // Revoked tokens alone do not.
        var free = operations.RetireSafety(document, v2, timing, new Dictionary<string, RequestsProxy.JobsApi.KidUsageResponse>
        {
            [v2] = new(v2, false, true, LiveTokens: 0, CurrentTokens: 0, LatestExpiry: null, SafeToRetire: true, RevokedTokens: 3),
        });
        Assert.True(free.Safe, free.Reason);
        Assert.EndsWith("the jobs-manager reports no live token (3 revoked, which need no key)", free.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retire_WithoutHistory_NeedsForce()
    {
        var dir = _temp.Combine("keys");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "active"), "v2\n");
        File.WriteAllText(Path.Combine(dir, "v1"), KeyRingRules.GenerateKey());
        File.WriteAllText(Path.Combine(dir, "v2"), KeyRingRules.GenerateKey());

        Assert.Equal(1, (await Rpctl.RunAsync("keys", "retire", "--dir", dir, "v1")).ExitCode);
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "retire", "--dir", dir, "v1", "--force")).ExitCode);
    }

    [Fact]
    public async Task Promote_UnknownKid_IsRefused_NotAKid_IsUsageError()
    {
        var dir = _temp.Combine("keys");
        await Rpctl.RunAsync("keys", "init", "--dir", dir);
        Assert.Equal(1, (await Rpctl.RunAsync("keys", "promote", "--dir", dir, "v9")).ExitCode);
        Assert.Equal(2, (await Rpctl.RunAsync("keys", "promote", "--dir", dir, "../v1")).ExitCode);
        Assert.Equal("v1", KeyRingLoader.Load(dir).Ring!.ActiveKid);
    }

    [Fact]
    public async Task List_ShowsActiveAndRetireSafety()
    {
        var dir = _temp.Combine("keys");
        await Rpctl.RunAsync("keys", "init", "--dir", dir);
        await Rpctl.RunAsync("keys", "add", "--dir", dir);
        var list = await Rpctl.RunAsync("keys", "list", "--dir", dir);
        Assert.Equal(0, list.ExitCode);
        var lines = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("v1     yes", lines[1], StringComparison.Ordinal);
        Assert.Contains("safe: it never signed", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_OnMissingRing_ExitWith2()
    {
        var dir = _temp.Combine("none");
        Assert.Equal(2, (await Rpctl.RunAsync("keys", "add", "--dir", dir)).ExitCode);
        Assert.Equal(2, (await Rpctl.RunAsync("keys", "list", "--dir", dir)).ExitCode);
    }
}

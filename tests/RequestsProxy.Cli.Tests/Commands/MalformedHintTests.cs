using RequestsProxy.Testing.Files;

namespace RequestsProxy.Cli.Tests.Commands;

/// <summary>
/// <c>invalid: malformed</c> stays the exact first stdout line (DESIGN §10); a hint on stderr says which mistake it was.
/// </summary>
public sealed class MalformedHintTests : IDisposable
{
    private readonly TempFolder _temp = new("rp-cli-hint");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("bearer", "starts with 'Bearer '")]
    [InlineData("file", "is a file: pass its content")]
    [InlineData("leading-space", "leading or trailing whitespace")]
    [InlineData("inner-space", "contains whitespace")]
    [InlineData("two-parts", "three base64url parts separated by '.', this has 2")]
    public async Task Verify_CommonMistake_MalformedWithAHintOnStderr(string mistake, string hint)
    {
        var keys = _temp.Combine("keys");
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "init", "--dir", keys)).ExitCode);
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "job-1")).Line;
        var file = _temp.Combine("token");
        File.WriteAllText(file, token + "\n");
        var argument = mistake switch
        {
            "bearer" => "Bearer " + token,
            "file" => file,
            "leading-space" => " " + token,
            "inner-space" => token[..10] + " " + token[10..],
            _ => string.Join('.', token.Split('.').Take(2)),
        };

        var result = await Rpctl.RunAsync("token", "verify", "--keys", keys, argument);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("invalid: malformed", result.Stdout.Split('\n')[0]);
        Assert.StartsWith("rpctl: hint: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(hint, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(token, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_BearerPrefix_MalformedWithTheSameHint()
    {
        var result = await Rpctl.RunAsync("token", "inspect", "Bearer a.b.c");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("invalid: malformed", result.Stdout.Split('\n')[0]);
        Assert.Contains("starts with 'Bearer '", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_BadSignature_NoHint()
    {
        var keys = _temp.Combine("keys");
        await Rpctl.RunAsync("keys", "init", "--dir", keys);
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "job-1")).Line;

        var result = await Rpctl.RunAsync("token", "verify", "--keys", keys, token[..^2] + (token[^2] == 'A' ? "BB" : "AA"));

        Assert.Equal("invalid: bad_signature", result.Line);
        Assert.DoesNotContain("hint", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("revoke", "--revoked", "R", "--jti", "a", "--exp", "tomorrow", "--exp must be Unix seconds")]
    [InlineData("token", "verify", "--keys", "K", "--now", "tomorrow", "t", "--now must be Unix seconds")]
    [InlineData("prune", "--revoked", "R", "--leeway", "soon", "--leeway must be a number of seconds")]
    public async Task NotANumber_UsageErrorSaysWhatIsExpected_NoTypeName(params string[] args)
    {
        var expected = args[^1];
        var arguments = args[..^1].Select(a => a switch { "R" => _temp.Combine("revoked.json"), "K" => _temp.Combine("keys"), _ => a }).ToArray();

        var result = await Rpctl.RunAsync(arguments);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("not '", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Nullable", result.Stderr, StringComparison.Ordinal);
    }
}

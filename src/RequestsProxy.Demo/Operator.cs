using System.Diagnostics;

namespace RequestsProxy.Demo;

/// <summary>
/// The platform operator of the demo: rotates the key ring with the real <c>rpctl keys</c>
/// commands (the build puts rpctl.dll beside the demo), exactly as docs/operations.md says to.
/// </summary>
internal sealed class Operator(string keysDirectory)
{
    /// <summary>A fresh ring: v1, active.</summary>
    public Task InitAsync(CancellationToken cancellationToken) => RpctlAsync(cancellationToken, "keys", "init", "--dir", keysDirectory);

    /// <summary>Adds the next key (not active yet) and returns its kid.</summary>
    public Task<string> AddAsync(CancellationToken cancellationToken) => RpctlAsync(cancellationToken, "keys", "add", "--dir", keysDirectory);

    /// <summary>Makes <paramref name="kid"/> the signing key.</summary>
    public Task PromoteAsync(string kid, CancellationToken cancellationToken) => RpctlAsync(cancellationToken, "keys", "promote", "--dir", keysDirectory, kid);

    private static async Task<string> RpctlAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var command = DotnetHost.Rpctl(arguments);
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new DemoException($"cannot start {string.Join(' ', command)}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new DemoException($"rpctl {string.Join(' ', arguments)} exited {process.ExitCode}: {(await stderr).Trim()}");
        }

        return (await stdout).Trim();
    }
}

using System.Diagnostics;

namespace RequestsProxy.Cli.Tests;

/// <summary>Runs the real rpctl process and captures what it prints.</summary>
internal static class Rpctl
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "rpctl.dll");

    // rpctl reads these; a developer's own settings must not leak into a test.
    private static readonly string[] Isolated = ["RPCTL_JOBS_MANAGER_URL", "RPCTL_ADMIN_TOKEN", "KUBECONFIG"];

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Line => Stdout.Trim();

        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    public static async Task<Result> RunWithInputAsync(string? stdin, params string[] args) =>
        await RunCoreAsync(stdin, null, args);

    public static Task<Result> RunAsync(params string[] args) => RunCoreAsync(null, null, args);

    /// <summary>Runs rpctl with a longer deadline than a command needs (<c>rpctl demo</c> may build the demo first).</summary>
    public static Task<Result> RunSlowAsync(TimeSpan timeout, params string[] args) => RunCoreAsync(null, null, args, timeout);

    /// <summary>Runs rpctl with extra environment variables (a null value removes one).</summary>
    public static Task<Result> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        RunCoreAsync(null, environment, args);

    private static async Task<Result> RunCoreAsync(string? stdin, IReadOnlyDictionary<string, string?>? environment, string[] args, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in Isolated)
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}

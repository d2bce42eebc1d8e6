using System.Diagnostics;

namespace RequestsProxy.Cli.Tests;

/// <summary>
/// Runs rpctl commands and captures what they print: in-process by default (the same entry point
/// as the rpctl process, a few milliseconds a command), or as the real <c>dotnet rpctl.dll</c>
/// process where the process itself is under test (exit codes, the demo hand-off).
/// </summary>
/// <remarks>
/// The console and the environment are the process's: in-process runs take turns on one lock,
/// so test classes still run in parallel around them.
/// </remarks>
internal static class Rpctl
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "rpctl.dll");

    // rpctl reads these; a developer's own settings must not leak into a test.
    private static readonly string[] Isolated = ["RPCTL_JOBS_MANAGER_URL", "RPCTL_ADMIN_TOKEN", "KUBECONFIG"];

    private static readonly SemaphoreSlim ConsoleTurn = new(1, 1);

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Line => Stdout.Trim();

        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    public static Task<Result> RunWithInputAsync(string? stdin, params string[] args) => InProcessAsync(stdin, null, args);

    public static Task<Result> RunAsync(params string[] args) => InProcessAsync(null, null, args);

    /// <summary>Runs rpctl with extra environment variables (a null value removes one).</summary>
    public static Task<Result> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        InProcessAsync(null, environment, args);

    /// <summary>Runs the real rpctl process.</summary>
    public static Task<Result> RunProcessAsync(params string[] args) => ProcessAsync(null, args, TimeSpan.FromSeconds(60));

    /// <summary>Runs the real rpctl process with stdin.</summary>
    public static Task<Result> RunProcessWithInputAsync(string stdin, params string[] args) => ProcessAsync(stdin, args, TimeSpan.FromSeconds(60));

    /// <summary>Runs the real rpctl process with a longer deadline (<c>rpctl demo</c> may build the demo first).</summary>
    public static Task<Result> RunSlowProcessAsync(TimeSpan timeout, params string[] args) => ProcessAsync(null, args, timeout);

    private static async Task<Result> InProcessAsync(string? stdin, IReadOnlyDictionary<string, string?>? environment, string[] args)
    {
        await ConsoleTurn.WaitAsync();
        var (stdout, stderr, input) = (System.Console.Out, System.Console.Error, System.Console.In);
        var saved = Isolated.Concat(environment?.Keys ?? []).Distinct(StringComparer.Ordinal).ToDictionary(n => n, Environment.GetEnvironmentVariable, StringComparer.Ordinal);
        try
        {
            foreach (var name in Isolated)
            {
                Environment.SetEnvironmentVariable(name, null);
            }

            foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            using var capturedOut = new StringWriter();
            using var capturedErr = new StringWriter();
            System.Console.SetOut(capturedOut);
            System.Console.SetError(capturedErr);
            System.Console.SetIn(new StringReader(stdin ?? string.Empty));
            var exitCode = await RpctlApp.RunAsync(args);
            return new Result(exitCode, capturedOut.ToString(), capturedErr.ToString());
        }
        finally
        {
            System.Console.SetOut(stdout);
            System.Console.SetError(stderr);
            System.Console.SetIn(input);
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            ConsoleTurn.Release();
        }
    }

    private static async Task<Result> ProcessAsync(string? stdin, string[] args, TimeSpan timeout)
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

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(deadline.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}

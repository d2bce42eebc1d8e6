using System.Diagnostics;

namespace RequestsProxy.Cli.Tests;

/// <summary>Runs the real rpctl process and captures what it prints.</summary>
internal static class Rpctl
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "rpctl.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Line => Stdout.Trim();
    }

    public static async Task<Result> RunWithInputAsync(string? stdin, params string[] args)
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

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    public static Task<Result> RunAsync(params string[] args) => RunWithInputAsync(null, args);
}

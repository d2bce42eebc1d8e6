using System.CommandLine;
using System.Diagnostics;
using System.Reflection;

namespace RequestsProxy.Cli.Commands;

/// <summary>
/// <c>rpctl demo</c> (DESIGN §10) runs the demo program, which is its own project
/// (src/RequestsProxy.Demo) so that rpctl needs neither the services nor a console UI: the
/// assembly beside rpctl when installed together, else the demo project of the source tree rpctl
/// was built in (<c>dotnet run</c>, which builds it first). Arguments pass through unchanged, and
/// the demo's exit code is rpctl's.
/// </summary>
internal static class DemoCommand
{
    public const string DemoAssembly = "requests-proxy-demo.dll";
    public const string DemoProject = "src/RequestsProxy.Demo/RequestsProxy.Demo.csproj";

    public static Command Create()
    {
        var command = new Command("demo", "Run the whole system locally: proxy SIGKILL + restart, key rotation and a revocation, with zero refused valid tokens (options: --duration SECONDS, --jobs N, --keep, --legacy, --cutover)")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (parse, ct) =>
        {
            using var process = Process.Start(StartInfo(parse.UnmatchedTokens)) ?? throw new CliException("cannot start the demo");
            try
            {
                await process.WaitForExitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C reached the demo too (same terminal): it is stopping what it started; wait for it.
                await process.WaitForExitAsync(CancellationToken.None);
                throw;
            }

            return process.ExitCode;
        });
        return command;
    }

    internal static ProcessStartInfo StartInfo(IReadOnlyList<string> arguments)
    {
        var dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var info = new ProcessStartInfo(dotnet) { UseShellExecute = false };
        var beside = Path.Combine(AppContext.BaseDirectory, DemoAssembly);
        if (File.Exists(beside))
        {
            info.ArgumentList.Add(beside);
        }
        else if (FindProject() is { } project)
        {
            var configuration = typeof(DemoCommand).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            foreach (var argument in new[] { "run", "--project", project, "--configuration", configuration, "--" })
            {
                info.ArgumentList.Add(argument);
            }
        }
        else
        {
            throw new CliException($"the demo is not installed beside rpctl ({beside}); run it from a clone of the repository: dotnet run --project {DemoProject}");
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>The demo project of the source tree around rpctl's own build output, if any.</summary>
    private static string? FindProject()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var project = Path.Combine(folder.FullName, DemoProject);
            if (File.Exists(project))
            {
                return project;
            }
        }

        return null;
    }
}

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
        var command = new Command("demo", "Run the whole system locally: proxy SIGKILL + restart, key rotation and a revocation, with zero refused valid tokens (options: --duration SECONDS, --jobs N, --keep, --legacy)")
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

    internal static ProcessStartInfo StartInfo(IReadOnlyList<string> arguments) =>
        StartInfo(arguments, AppContext.BaseDirectory, Environment.CurrentDirectory);

    internal static ProcessStartInfo StartInfo(IReadOnlyList<string> arguments, string baseDirectory, string currentDirectory)
    {
        var dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var info = new ProcessStartInfo(dotnet) { UseShellExecute = false };
        var beside = Path.Combine(baseDirectory, DemoAssembly);
        if (File.Exists(beside))
        {
            info.ArgumentList.Add(beside);
        }
        // An installed tool lives in ~/.dotnet/tools/.store, outside any clone: look around the
        // folder it is run from too, as docs/cli.md promises.
        else if ((FindProject(baseDirectory) ?? FindProject(currentDirectory)) is { } project)
        {
            var configuration = typeof(DemoCommand).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            foreach (var argument in new[] { "run", "--project", project, "--configuration", configuration, "--" })
            {
                info.ArgumentList.Add(argument);
            }
        }
        else
        {
            throw new CliException($"the demo is not installed beside rpctl ({beside}) and '{currentDirectory}' is not inside a clone of the repository: run rpctl demo (or dotnet run --project {DemoProject}) from a clone");
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>The demo project of the source tree around <paramref name="start"/>, if any.</summary>
    private static string? FindProject(string start)
    {
        for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
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

using System.CommandLine;
using RequestsProxy.Cli.Commands;
using RequestsProxy.JobsApi;

namespace RequestsProxy.Cli;

/// <summary>
/// rpctl's command line and its one error policy (one line on stderr, the exit codes of DESIGN §10).
/// Program runs it; tests run commands through it in-process (they redirect the console).
/// </summary>
internal static class RpctlApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("rpctl: keys, tokens and revocations of requests-proxy");
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(TokenCommand.Create());
        root.Subcommands.Add(RevocationCommands.Revoke());
        root.Subcommands.Add(RevocationCommands.Prune());
        root.Subcommands.Add(JobsCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine($"rpctl: {error.Message}");
            }

            Console.Error.WriteLine("Run with --help for usage.");
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,

                // Ctrl-C reaches the demo too, which then stops every process it started: give it time to.
                ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
            });
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("rpctl: cancelled");
            return 130;
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"rpctl: {e.Message}");
            return e.ExitCode;
        }
        catch (JobsApiException e)
        {
            // A 409 is a refusal (exit 1); anything that keeps the command from working is exit 2.
            var hint = e.Status == System.Net.HttpStatusCode.Unauthorized ? $"; check --admin-token-file or {JobsApiOptions.TokenVariable}" : string.Empty;
            Console.Error.WriteLine($"rpctl: {e.Message}{hint}");
            return e.IsConflict ? ExitCodes.Refused : ExitCodes.Usage;
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
        {
            // A combination of values beyond what a clock can hold (each option is range-checked alone).
            Console.Error.WriteLine($"rpctl: a value is out of range: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            Console.Error.WriteLine($"rpctl: {e.Message}");
            return ExitCodes.Usage;
        }
    }
}

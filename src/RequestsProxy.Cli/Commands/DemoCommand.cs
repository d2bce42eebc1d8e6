using System.CommandLine;
using RequestsProxy.Cli.Demo;
using Spectre.Console;

namespace RequestsProxy.Cli.Commands;

/// <summary><c>rpctl demo</c>: the whole promise, runnable in one command.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "How long the training jobs run, in seconds", DefaultValueFactory = _ => 40 };
        var jobs = new Option<int>("--jobs") { Description = "How many training jobs", DefaultValueFactory = _ => 3 };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary folder (keys, logs, events) for inspection" };
        var legacy = new Option<bool>("--legacy") { Description = "Run the same scenario against the legacy in-memory token registry, to see the 401s it causes" };
        var command = new Command("demo", "Run the whole system locally: proxy SIGKILL + restart, key rotation and a revocation, with zero refused valid tokens") { duration, jobs, keep, legacy };
        command.Subcommands.Add(Worker());
        command.SetAction(async (parse, ct) =>
        {
            var seconds = parse.GetValue(duration);
            var count = parse.GetValue(jobs);
            if (seconds is < 10 or > 600)
            {
                throw new CliException("--duration must be between 10 and 600 seconds");
            }

            if (count is < 2 or > 20)
            {
                throw new CliException("--jobs must be between 2 and 20 (one of them is stopped mid-run)");
            }

            var options = new DemoOptions { Duration = TimeSpan.FromSeconds(seconds), Jobs = count, Keep = parse.GetValue(keep), Legacy = parse.GetValue(legacy) };
            var result = await new DemoRunner(options, new ConsoleDemoProgress()).RunAsync(ct);
            var console = AnsiConsole.Console;
            if (Console.IsOutputRedirected)
            {
                // A pipe or CI log has no width; Spectre would assume 80 columns and fold every row.
                console.Profile.Width = 110;
            }

            DemoReport.Write(result, options, console);
            return result.PromiseHeld ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    private static Command Worker()
    {
        var worker = new Command("worker", "A demo training job (started by the jobs-manager)") { Hidden = true };
        worker.SetAction((_, ct) => DemoWorker.RunAsync(ct));
        return worker;
    }
}

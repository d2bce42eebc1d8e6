using System.CommandLine;
using Spectre.Console;

namespace RequestsProxy.Demo;

/// <summary>The demo's command line (also <c>rpctl demo</c>'s): the whole promise, runnable in one command.</summary>
internal static class DemoCommand
{
    public static RootCommand Create()
    {
        var duration = new Option<int>("--duration") { Description = "How long the training jobs run, in seconds", DefaultValueFactory = _ => 40 };
        var jobs = new Option<int>("--jobs") { Description = "How many training jobs", DefaultValueFactory = _ => 3 };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary folder (keys, logs, events) for inspection" };
        var legacy = new Option<bool>("--legacy") { Description = "Run the same scenario against the legacy in-memory token registry, to see the 401s it causes" };
        var cutover = new Option<bool>("--cutover") { Description = "Start the jobs under legacy tokens, flip both services to stateless while they run (rolling, as the chart does), then SIGKILL a proxy" };
        var command = new RootCommand("Run the whole system locally: proxy SIGKILL + restart, key rotation and a revocation, with zero refused valid tokens") { duration, jobs, keep, legacy, cutover };
        command.Subcommands.Add(Worker());
        command.SetAction(async (parse, ct) =>
        {
            var seconds = parse.GetValue(duration);
            var count = parse.GetValue(jobs);
            if (seconds is < 10 or > 600)
            {
                throw new DemoException("--duration must be between 10 and 600 seconds", DemoExitCodes.Usage);
            }

            if (count is < 2 or > 20)
            {
                throw new DemoException("--jobs must be between 2 and 20 (one of them is stopped mid-run)", DemoExitCodes.Usage);
            }

            if (parse.GetValue(legacy) && parse.GetValue(cutover))
            {
                throw new DemoException("--legacy and --cutover exclude each other (--cutover starts in legacy mode and flips)", DemoExitCodes.Usage);
            }

            var options = new DemoOptions { Duration = TimeSpan.FromSeconds(seconds), Jobs = count, Keep = parse.GetValue(keep), Legacy = parse.GetValue(legacy), Cutover = parse.GetValue(cutover) };
            var result = await new DemoRunner(options, new ConsoleDemoProgress()).RunAsync(ct);
            var console = AnsiConsole.Console;
            if (Console.IsOutputRedirected)
            {
                // A pipe or CI log has no width; Spectre would assume 80 columns and fold every row.
                console.Profile.Width = 110;
            }

            DemoReport.Write(result, options, console);
            return result.PromiseHeld ? DemoExitCodes.Held : DemoExitCodes.Failed;
        });
        return command;
    }

    private static Command Worker()
    {
        var worker = new Command(DemoWorker.CommandName, "A demo training job (started by the jobs-manager)") { Hidden = true };
        worker.SetAction((_, ct) => DemoWorker.RunAsync(ct));
        return worker;
    }
}

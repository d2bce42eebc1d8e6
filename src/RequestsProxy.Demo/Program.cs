using System.CommandLine;
using RequestsProxy.Demo;
using RequestsProxy.JobsApi;

var parse = DemoCommand.Create().Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"demo: {error.Message}");
    }

    Console.Error.WriteLine("Run with --help for usage.");
    return DemoExitCodes.Usage;
}

try
{
    return await parse.InvokeAsync(new InvocationConfiguration
    {
        EnableDefaultExceptionHandler = false,

        // Ctrl-C cancels the demo, which then stops every process it started: give it time to.
        ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
    });
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("demo: cancelled; every process it started has been stopped");
    return 130;
}
catch (DemoException e)
{
    Console.Error.WriteLine($"demo: {e.Message}");
    return e.ExitCode;
}
catch (Exception e) when (e is JobsApiException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"demo: {e.Message}");
    return DemoExitCodes.Failed;
}

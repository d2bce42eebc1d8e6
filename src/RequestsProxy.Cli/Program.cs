using System.CommandLine;
using RequestsProxy.Cli;
using RequestsProxy.Cli.Commands;

var root = new RootCommand("rpctl: keys, tokens and revocations of requests-proxy");
root.Subcommands.Add(KeysCommand.Create());
root.Subcommands.Add(TokenCommand.Create());
root.Subcommands.Add(RevocationCommands.Revoke());
root.Subcommands.Add(RevocationCommands.Prune());
root.Subcommands.Add(JobsCommand.Create());

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
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (CliException e)
{
    Console.Error.WriteLine($"rpctl: {e.Message}");
    return e.ExitCode;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
{
    Console.Error.WriteLine($"rpctl: {e.Message}");
    return ExitCodes.Usage;
}

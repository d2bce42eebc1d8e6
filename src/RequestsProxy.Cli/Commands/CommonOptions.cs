using System.CommandLine;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Commands;

/// <summary>Options and inputs shared by several commands.</summary>
internal static class CommonOptions
{
    public static Option<double?> Now() => new("--now")
    {
        Description = "Use this instant (Unix seconds) as the current time",
    };

    public const string Table = "table";
    public const string Json = "json";

    /// <summary><c>--output table|json</c>: tables for people, the API's JSON for scripts.</summary>
    public static Option<string> Output()
    {
        var output = new Option<string>("--output", "-o")
        {
            Description = "table (default) or json",
            DefaultValueFactory = _ => Table,
        };
        output.AcceptOnlyFromAmong(Table, Json);
        return output;
    }

    public static Argument<string> Token() => new("TOKEN")
    {
        Description = "The token, or - to read it from standard input",
    };

    public static string ReadToken(string argument) =>
        argument == "-" ? Console.In.ReadToEnd().Trim() : argument;

    /// <summary>Loads a key ring folder or fails with a message the operator can act on.</summary>
    public static KeyRing LoadRing(string directory)
    {
        var result = KeyRingLoader.Load(directory);
        return result.Ring ?? throw new CliException($"no valid key ring in '{directory}': {result.Error}");
    }

    /// <summary>The value of a Unix-seconds option, refusing NaN and infinities.</summary>
    public static double? Finite(ParseResult parse, Option<double?> option)
    {
        var value = parse.GetValue(option);
        return value is { } v && !double.IsFinite(v) ? throw new CliException($"{option.Name} must be a finite number") : value;
    }
}

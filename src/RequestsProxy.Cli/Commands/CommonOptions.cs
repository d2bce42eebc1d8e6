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

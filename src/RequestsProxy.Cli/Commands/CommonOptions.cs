using System.CommandLine;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Commands;

/// <summary>Options and inputs shared by several commands.</summary>
internal static class CommonOptions
{
    public static Option<double?> Now() => UnixSeconds("--now", "Use this instant (Unix seconds) as the current time");

    /// <summary>
    /// An instant in Unix seconds. The parse error says what is expected ("--exp must be Unix seconds …, not
    /// 'tomorrow'") instead of System.CommandLine's default, which names the .NET type.
    /// </summary>
    public static Option<double?> UnixSeconds(string name, string description, bool required = false) => new(name)
    {
        Description = description,
        Required = required,
        CustomParser = result => ParseNumber(result, $"{name} must be Unix seconds, a number such as {DateTimeOffset.UtcNow.ToUnixTimeSeconds()} (date +%s)"),
    };

    /// <summary>A number of seconds, with a parse error that says so.</summary>
    public static Option<double> Seconds(string name, string description, double defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseNumber(result, $"{name} must be a number of seconds") ?? defaultValue,
    };

    private static double? ParseNumber(System.CommandLine.Parsing.ArgumentResult result, string expectation)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        result.AddError($"{expectation}, not '{text}'");
        return null;
    }

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

    /// <summary>A revocation list that does not exist is empty; a warning on stderr catches a typo'd path.</summary>
    public static void WarnIfMissing(string revokedFile)
    {
        if (!File.Exists(revokedFile))
        {
            Console.Error.WriteLine($"rpctl: warning: revocation list '{revokedFile}' does not exist; it is taken as empty");
        }
    }

    /// <summary>The longest lifetime or leeway accepted: 100 years, far beyond any sane value, far below an overflow.</summary>
    public const long MaxSeconds = 3_153_600_000;

    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();

    // Leaves room for a lifetime or leeway added to the instant without leaving DateTimeOffset's range.
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds() - (2 * MaxSeconds);

    /// <summary>The value of a Unix-seconds option, refusing NaN, infinities and instants no clock can hold.</summary>
    public static double? Finite(ParseResult parse, Option<double?> option)
    {
        var value = parse.GetValue(option);
        return value switch
        {
            null => null,
            { } v when !double.IsFinite(v) => throw new CliException($"{option.Name} must be a finite number"),
            { } v when v < MinUnixSeconds || v > MaxUnixSeconds => throw new CliException($"{option.Name} must be a Unix time between {MinUnixSeconds} and {MaxUnixSeconds}, not {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}"),
            _ => value,
        };
    }

    /// <summary>The value of a <c>--leeway</c> option: 0 to <see cref="MaxSeconds"/> seconds.</summary>
    public static TimeSpan Leeway(ParseResult parse, Option<double> option)
    {
        var seconds = parse.GetValue(option);
        return double.IsFinite(seconds) && seconds is >= 0 and <= MaxSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw new CliException($"{option.Name} must be a number of seconds from 0 to {MaxSeconds}");
    }

    /// <summary><c>--ttl</c>: a token lifetime in whole seconds, 1 to <see cref="MaxSeconds"/>.</summary>
    public static Option<long> Ttl(string description)
    {
        var ttl = new Option<long>("--ttl")
        {
            Description = description,
            DefaultValueFactory = _ => (long)TokenDefaults.Lifetime.TotalSeconds,
        };
        ttl.Validators.Add(r =>
        {
            // Judge the text itself: reading a value that does not parse ("1e20") would throw here.
            if (r.Tokens.Count > 0 && (!long.TryParse(r.Tokens[^1].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds is <= 0 or > MaxSeconds))
            {
                r.AddError($"--ttl must be a whole number of seconds from 1 to {MaxSeconds} (100 years), not '{r.Tokens[^1].Value}'");
            }
        });
        return ttl;
    }
}

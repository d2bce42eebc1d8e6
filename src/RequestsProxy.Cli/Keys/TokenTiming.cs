using RequestsProxy.Tokens.Jwt;

namespace RequestsProxy.Cli.Keys;

/// <summary>
/// How long a token signed by a demoted key may still be accepted: its lifetime plus the clock-skew leeway, and where
/// the numbers came from (the options, the jobs-manager's own settings, or the defaults) so messages can say so.
/// </summary>
internal sealed record TokenTiming(TimeSpan Lifetime, TimeSpan Leeway, string Source)
{
    public static TokenTiming Default { get; } = new(TokenDefaults.Lifetime, TokenDefaults.Leeway, "the defaults");

    public string Describe() =>
        $"token lifetime {(long)Lifetime.TotalSeconds} s, leeway {(long)Leeway.TotalSeconds} s ({Source})";
}

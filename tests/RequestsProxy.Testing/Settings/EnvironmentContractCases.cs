using RequestsProxy.Settings;

namespace RequestsProxy.Testing.Settings;

/// <summary>
/// One table of environment values for both services: the proxy's and the jobs-manager's tests
/// each run it through their own settings, so a value that means something to one means the
/// same to the other.
/// </summary>
public static class EnvironmentContractCases
{
    /// <summary><see cref="EnvironmentVariables.Stateless"/> spellings and what they mean.</summary>
    public static IEnumerable<object[]> Flags =>
    [
        ["1", true], ["0", false], ["yes", true], ["NO", false], ["True", true], ["false", false], [" true ", true],
    ];

    /// <summary><see cref="EnvironmentVariables.LeewaySeconds"/> values (zero allowed) and the seconds they mean.</summary>
    public static IEnumerable<object[]> Leeways => [["1.5", 1.5], ["0", 0.0], ["30", 30.0], ["0.25", 0.25]];

    /// <summary>Bad values of three variables at once.</summary>
    public static IReadOnlyDictionary<string, string?> BadValues { get; } = new Dictionary<string, string?>
    {
        [EnvironmentVariables.Stateless] = "maybe",
        [EnvironmentVariables.LeewaySeconds] = "1,5",
        [EnvironmentVariables.KeysPollSeconds] = "-1",
    };

    /// <summary>What the errors of <see cref="BadValues"/> start with: each names its variable and value.</summary>
    public static IReadOnlyList<string> BadValueErrors { get; } =
    [
        "REQUESTS_PROXY_STATELESS: 'maybe' is not true or false",
        "REQUESTS_PROXY_LEEWAY_SECONDS: '1,5' is not a number of seconds ≥ 0",
        "REQUESTS_PROXY_KEYS_POLL_SECONDS: '-1' is not a number of seconds > 0",
    ];
}

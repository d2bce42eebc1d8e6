using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace RequestsProxy.Settings;

/// <summary>
/// The one parser of the environment contract, shared by both services so a value means the same
/// to each: flags are <c>true/false/1/0/yes/no</c> (any case), durations are seconds with an
/// optional fraction (<c>1.5</c>), numbers are invariant-culture. A bad value is recorded with
/// its name and the fallback is used, so a reader reports every problem of an environment at
/// once (<see cref="ThrowIfInvalid"/>) instead of the first.
/// </summary>
/// <remarks>
/// Not <c>ConfigurationBinder</c>: its type converters stop at the first bad value and know
/// neither <c>1</c> as a flag nor a duration in seconds.
/// </remarks>
public sealed class EnvironmentReader(IConfiguration configuration)
{
    /// <summary>No duration is longer: ten years keeps every <c>now + duration</c> far from overflow.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(3650);

    private readonly List<string> _errors = [];

    /// <summary>Every problem found so far, each naming its variable.</summary>
    public IReadOnlyList<string> Errors => _errors;

    /// <summary>The trimmed value; null when the variable is unset or blank.</summary>
    public string? Text(string name)
    {
        var value = configuration[name];
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    public string Text(string name, string fallback) => Text(name) ?? fallback;

    public bool Flag(string name, bool fallback)
    {
        var value = Text(name);
        switch (value?.ToUpperInvariant())
        {
            case null:
                return fallback;
            case "TRUE" or "1" or "YES":
                return true;
            case "FALSE" or "0" or "NO":
                return false;
            default:
                Fail(name, value, "is not true or false (or 1/0, yes/no)");
                return fallback;
        }
    }

    /// <summary>A duration in seconds, fraction allowed; positive, or ≥ 0 with <paramref name="allowZero"/>.</summary>
    public TimeSpan Seconds(string name, TimeSpan fallback, bool allowZero = false)
    {
        var value = Text(name);
        if (value is null)
        {
            return fallback;
        }

        if (!double.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            || !double.IsFinite(seconds) || seconds < 0 || (seconds == 0 && !allowZero) || seconds > MaxDuration.TotalSeconds)
        {
            Fail(name, value, $"is not a number of seconds {(allowZero ? "≥ 0" : "> 0")} (at most {MaxDuration.TotalSeconds:0})");
            return fallback;
        }

        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>A whole number &gt; 0 (or ≥ 0 with <paramref name="allowZero"/>).</summary>
    public long PositiveInteger(string name, long fallback, bool allowZero = false)
    {
        var value = Text(name);
        if (value is null)
        {
            return fallback;
        }

        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 0 || (number == 0 && !allowZero))
        {
            Fail(name, value, allowZero ? "is not a whole number ≥ 0" : "is not a positive whole number");
            return fallback;
        }

        return number;
    }

    /// <summary>A TCP port, 1–65535; null when unset.</summary>
    public int? Port(string name)
    {
        var value = Text(name);
        if (value is null)
        {
            return null;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            Fail(name, value, "is not a port number (1-65535)");
            return null;
        }

        return port;
    }

    /// <summary>An absolute http or https URL; null when unset.</summary>
    public Uri? HttpUrl(string name)
    {
        var value = Text(name);
        if (value is null)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            Fail(name, value, "is not an absolute http(s) URL");
            return null;
        }

        return url;
    }

    /// <summary>A host name or IP address; null when unset.</summary>
    public string? HostName(string name)
    {
        var value = Text(name);
        if (value is null)
        {
            return null;
        }

        if (Uri.CheckHostName(value) is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
        {
            Fail(name, value, "is not a DNS name or an IP address");
            return null;
        }

        return value;
    }

    /// <summary>One of <paramref name="choices"/> (matched in any case).</summary>
    public T Choice<T>(string name, T fallback, params (string Text, T Value)[] choices)
    {
        var value = Text(name);
        if (value is null)
        {
            return fallback;
        }

        foreach (var (text, choice) in choices)
        {
            if (value.Equals(text, StringComparison.OrdinalIgnoreCase))
            {
                return choice;
            }
        }

        Fail(name, value, "is not one of " + string.Join(", ", choices.Select(c => $"'{c.Text}'")));
        return fallback;
    }

    /// <summary>A bad value: <c>NAME: 'value' reason</c>.</summary>
    public void Fail(string name, string value, string reason) => _errors.Add($"{name}: '{value}' {reason}");

    /// <summary>A problem that is not one value's (a missing requirement, two values that disagree).</summary>
    public void Fail(string problem) => _errors.Add(problem);

    /// <summary>Throws when any problem was found, with every one of them.</summary>
    /// <exception cref="InvalidSettingsException">At least one problem was recorded.</exception>
    public void ThrowIfInvalid()
    {
        if (_errors.Count > 0)
        {
            throw new InvalidSettingsException(_errors);
        }
    }
}

using System.Text.Json;
using System.Text.RegularExpressions;

namespace RequestsProxy.JobsManager.Api;

/// <summary>
/// A <see cref="JsonException"/> as a sentence for the API's caller: which field, what is wrong with it. System.Text.Json's
/// own messages name .NET types (<c>RequestsProxy.JobsManager.Api.StartJobRequest</c>), which mean nothing on the wire.
/// </summary>
internal static partial class JsonErrorText
{
    public static string Describe(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = exception.Message;
        var at = exception.Path is { Length: > 1 } path ? $" (at {path})" : string.Empty;
        if (message.StartsWith("Duplicate ", StringComparison.Ordinal))
        {
            // "Duplicate property 'name' …" names it; "Duplicate properties not allowed …" (a map's key) leaves only the path.
            var name = Duplicate().Match(message) is { Success: true } quoted ? quoted.Groups[1].Value : LastSegment(exception.Path);
            return $"the field '{name}' is given twice{at}";
        }

        if (Unmapped().Match(message) is { Success: true } unmapped)
        {
            return $"'{unmapped.Groups[1].Value}' is not a field of a start request{at}";
        }

        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"a field has the wrong type{at}";
        }

        // Anything else: the parser's words without type names, and where it stopped.
        var text = TypeName().Replace(message.Split(" Path:", 2)[0], "the request").Trim();
        return text + at;
    }

    private static string LastSegment(string? path) =>
        path is { Length: > 0 } p ? p[(p.LastIndexOfAny(['.', '[']) + 1)..].Trim('[', ']', '\'') : "?";

    [GeneratedRegex("^Duplicate [a-z ]*?['\"]([^'\"]*)['\"]")]
    private static partial Regex Duplicate();

    [GeneratedRegex("^The JSON property '([^']*)' could not be mapped")]
    private static partial Regex Unmapped();

    [GeneratedRegex(@"'?(?:RequestsProxy|System)\.[A-Za-z0-9_.`\[\],]+'?")]
    private static partial Regex TypeName();
}

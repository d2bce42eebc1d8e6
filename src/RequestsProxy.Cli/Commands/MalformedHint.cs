namespace RequestsProxy.Cli.Commands;

/// <summary>
/// Why a token text is <c>malformed</c>, in the words of the usual mistakes: an Authorization header pasted whole,
/// a file path instead of the file's content, whitespace from a copy or an editor. Printed on stderr only: the first
/// stdout line stays exactly <c>invalid: malformed</c> (DESIGN §10).
/// </summary>
internal static class MalformedHint
{
    public static string? For(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return "the token starts with 'Bearer ': pass the token alone, without the Authorization scheme";
        }

        if (trimmed.Length > 0 && trimmed.Split('.').Length != 3 && LooksLikePath(trimmed))
        {
            return File.Exists(trimmed)
                ? $"'{trimmed}' is a file: pass its content, e.g. \"$(cat {trimmed})\", or - and the file on standard input"
                : $"'{trimmed}' looks like a file path, not a token (and no such file exists)";
        }

        if (text.Length != trimmed.Length)
        {
            return "the token has leading or trailing whitespace (a newline from a file or a copy?): strip it";
        }

        if (trimmed.Any(char.IsWhiteSpace))
        {
            return "the token contains whitespace: a token is one unbroken string; was it wrapped or split by a copy?";
        }

        if (trimmed.Length == 0)
        {
            return "the token is empty";
        }

        var segments = trimmed.Split('.').Length;
        return segments != 3
            ? $"a token is three base64url parts separated by '.', this has {segments}"
            : null;
    }

    private static bool LooksLikePath(string text) =>
        text.Contains('/', StringComparison.Ordinal) || text.StartsWith('~') || File.Exists(text);
}

using System.Security.Cryptography;

namespace RequestsProxy.Tokens.Keys;

/// <summary>The naming and content rules of the key ring folder (DESIGN §3).</summary>
public static class KeyRingRules
{
    public const string ActiveFileName = "active";
    public const int GeneratedKeyLength = 64;

    private const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>True for <c>v1</c>, <c>v2</c>, …: the only names a key file may have.</summary>
    public static bool IsKid(ReadOnlySpan<char> name)
    {
        if (name.Length < 2 || name.Length > 20 || name[0] != 'v')
        {
            return false;
        }

        foreach (var c in name[1..])
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Sort key for kids: numeric order, so v10 follows v9.</summary>
    public static long KidNumber(string kid) =>
        IsKid(kid) && long.TryParse(kid.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue;

    /// <summary>The next kid after every kid given: v(N+1).</summary>
    public static string NextKid(IEnumerable<string> kids)
    {
        var max = kids.Where(k => IsKid(k)).Select(KidNumber).DefaultIfEmpty(0).Max();
        return "v" + (max + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>64 random alphanumerics, as the chart's <c>randAlphaNum 64</c>.</summary>
    public static string GenerateKey() => RandomNumberGenerator.GetString(Alphanumerics, GeneratedKeyLength);

    /// <summary>File content with trailing whitespace and newlines removed.</summary>
    public static ReadOnlySpan<byte> TrimTrailingWhitespace(ReadOnlySpan<byte> content)
    {
        var end = content.Length;
        while (end > 0 && content[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'\f' or (byte)'\v')
        {
            end--;
        }

        return content[..end];
    }
}

using System.Buffers.Text;
using System.Text.Json;

namespace RequestsProxy.Cluster.Workload;

/// <summary>The kid of a token's header, unverified (for the tally only).</summary>
internal static class TokenKid
{
    public static string? Of(string token)
    {
        try
        {
            using var json = JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[0]));
            return json.RootElement.TryGetProperty("kid", out var kid) ? kid.GetString() : null;
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}

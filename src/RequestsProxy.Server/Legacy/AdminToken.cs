using System.Security.Cryptography;
using System.Text;
using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Legacy;

/// <summary>
/// The admin token guarding registration, read from its mounted file on each admin call (rare),
/// so a rotated Secret takes effect without a restart. It is the key of signed admin requests,
/// and (<see cref="ProxySettings.AdminAcceptBearer"/>) what an older jobs-manager presents as a bearer token.
/// </summary>
internal sealed class AdminToken(ProxySettings settings)
{
    /// <summary>The token, or null when its file is missing, unreadable or empty.</summary>
    public string? Read()
    {
        try
        {
            var token = File.ReadAllText(settings.AdminTokenFile).Trim();
            return token.Length == 0 ? null : token;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public AdminCheck Check(string presented)
    {
        if (Read() is not { } expected)
        {
            return AdminCheck.NotConfigured;
        }

        // Digests first: the comparison takes the same time whatever the lengths are.
        var a = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(expected));
        return CryptographicOperations.FixedTimeEquals(a, b) ? AdminCheck.Allowed : AdminCheck.Refused;
    }
}

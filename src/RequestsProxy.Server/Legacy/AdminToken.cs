using System.Security.Cryptography;
using System.Text;
using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Legacy;

/// <summary>
/// The admin token guarding registration, read from its mounted file on each admin call (rare),
/// so a rotated Secret takes effect without a restart.
/// </summary>
internal sealed class AdminToken(ProxySettings settings)
{
    public AdminCheck Check(string presented)
    {
        string expected;
        try
        {
            expected = File.ReadAllText(settings.AdminTokenFile).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return AdminCheck.NotConfigured;
        }

        if (expected.Length == 0)
        {
            return AdminCheck.NotConfigured;
        }

        // Digests first: the comparison takes the same time whatever the lengths are.
        var a = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(expected));
        return CryptographicOperations.FixedTimeEquals(a, b) ? AdminCheck.Allowed : AdminCheck.Refused;
    }
}

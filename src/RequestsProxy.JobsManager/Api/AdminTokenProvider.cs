using System.Security.Cryptography;
using System.Text;

namespace RequestsProxy.JobsManager.Api;

/// <summary>
/// The admin token from its mounted file. Re-read when the file changes (a rotated Secret
/// takes effect without a restart); compared by hash in constant time.
/// </summary>
internal sealed class AdminTokenProvider(JobsManagerOptions options)
{
    private readonly Lock _lock = new();
    private (DateTime Written, long Length, string? Token) _cache;

    public string Path => options.AdminTokenFile;

    /// <summary>The token, or null when the file is missing, unreadable or empty.</summary>
    public string? Current
    {
        get
        {
            try
            {
                var info = new FileInfo(options.AdminTokenFile);
                if (!info.Exists)
                {
                    return null;
                }

                lock (_lock)
                {
                    if (_cache.Token is null || _cache.Written != info.LastWriteTimeUtc || _cache.Length != info.Length)
                    {
                        var token = File.ReadAllText(options.AdminTokenFile).Trim();
                        _cache = (info.LastWriteTimeUtc, info.Length, token.Length == 0 ? null : token);
                    }

                    return _cache.Token;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    public bool IsConfigured => Current is not null;

    /// <summary>True when <paramref name="presented"/> is the admin token (hashes compared, so length leaks nothing).</summary>
    public bool Matches(ReadOnlySpan<char> presented)
    {
        var expected = Current;
        if (expected is null || presented.IsEmpty)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[32];
        Span<byte> b = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(presented.ToArray()), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }
}

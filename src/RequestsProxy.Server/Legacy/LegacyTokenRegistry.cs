using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using RequestsProxy.Server.Authentication;

namespace RequestsProxy.Server.Legacy;

/// <summary>
/// The old design's state: opaque tokens registered in this process's memory, gone on restart.
/// Tokens are kept only as SHA-256 digests, so a heap dump does not hand them out.
/// </summary>
internal sealed class LegacyTokenRegistry
{
    private readonly ConcurrentDictionary<string, CallerIdentity> _byDigest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _digestsBySubject = new(StringComparer.Ordinal);
    private readonly Lock _writeLock = new();

    public int Count => _byDigest.Count;

    public void Register(string token, string subject, string scope)
    {
        var digest = Digest(token);
        var caller = new CallerIdentity(subject, null, scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        lock (_writeLock)
        {
            if (_byDigest.TryGetValue(digest, out var previous) && _digestsBySubject.TryGetValue(previous.Subject, out var old))
            {
                old.Remove(digest);
            }

            _byDigest[digest] = caller;
            if (!_digestsBySubject.TryGetValue(subject, out var digests))
            {
                _digestsBySubject[subject] = digests = new HashSet<string>(StringComparer.Ordinal);
            }

            digests.Add(digest);
        }
    }

    /// <summary>Forgets every token of a job; returns how many there were.</summary>
    public int Forget(string subject)
    {
        lock (_writeLock)
        {
            if (!_digestsBySubject.Remove(subject, out var digests))
            {
                return 0;
            }

            foreach (var digest in digests)
            {
                _byDigest.TryRemove(digest, out _);
            }

            return digests.Count;
        }
    }

    public CallerIdentity? Find(string token) => _byDigest.TryGetValue(Digest(token), out var caller) ? caller : null;

    private static string Digest(string token) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

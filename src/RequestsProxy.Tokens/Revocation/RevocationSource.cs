using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Revocation;

/// <summary>
/// The revocation list of a mounted file (<see cref="MountedFileSource{T}"/>): a corrupt file at
/// start leaves the source not ready (a replica restarted onto a broken list must not forget every
/// revocation); no file yet is the empty list; once a list is in force, a bad update keeps it.
/// </summary>
public sealed class RevocationSource : MountedFileSource<RevocationList>, IRevocationSource
{
    /// <param name="directory">The folder holding <c>revoked.json</c> (the ConfigMap volume).</param>
    public RevocationSource(string directory, TimeSpan pollInterval, TimeProvider time)
        : base(Path.Combine(directory, RevocationFile.FileName), RevocationListCodec.Instance, pollInterval, time)
    {
    }
}

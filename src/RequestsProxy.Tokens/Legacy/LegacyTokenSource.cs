using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Legacy;

/// <summary>
/// The mounted legacy token list (<see cref="MountedFileSource{T}"/>): no file yet is the empty
/// list; a corrupt one at start leaves the source not ready (a replica restarted onto it must not
/// refuse every legacy token); once a list is in force, a bad update keeps it. Required (the chart,
/// whose volume is <c>optional</c> because the jobs-manager creates the ConfigMap): not ready until
/// the file has been read once.
/// </summary>
public sealed class LegacyTokenSource : MountedFileSource<LegacyTokenList>
{
    /// <param name="directory">The folder holding <c>legacy-tokens.json</c> (the ConfigMap volume).</param>
    public LegacyTokenSource(string directory, TimeSpan pollInterval, TimeProvider time, bool required = false)
        : base(Path.Combine(directory, LegacyTokenList.FileName), LegacyTokenListCodec.Instance, pollInterval, time, required)
    {
    }
}

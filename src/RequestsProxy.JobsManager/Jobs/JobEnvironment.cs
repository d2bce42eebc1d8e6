using RequestsProxy.Settings;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The environment every job gets, in every runtime (DESIGN §6).</summary>
internal static class JobEnvironment
{
    public const string ProxyUrl = EnvironmentVariables.ProxyUrl;
    public const string TokenFile = EnvironmentVariables.TokenFile;

    /// <summary>
    /// The token itself, for clients that cannot read files (Kubernetes: from the token Secret).
    /// Fixed when the container starts: it never sees a refresh.
    /// </summary>
    public const string Token = EnvironmentVariables.Token;

    /// <summary>Names a request may not set: the jobs-manager owns them.</summary>
    public static bool IsReserved(string name) => name.StartsWith(EnvironmentVariables.ReservedPrefix, StringComparison.Ordinal);
}

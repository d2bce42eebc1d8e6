namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The environment every job gets, in every runtime (DESIGN §6).</summary>
internal static class JobEnvironment
{
    public const string ProxyUrl = "REQUESTS_PROXY_URL";
    public const string TokenFile = "REQUESTS_PROXY_TOKEN_FILE";

    /// <summary>
    /// The token itself, for clients that cannot read files (Kubernetes: from the token Secret).
    /// Fixed when the container starts: it never sees a refresh.
    /// </summary>
    public const string Token = "REQUESTS_PROXY_TOKEN";

    /// <summary>Names a request may not set: the jobs-manager owns them.</summary>
    public static bool IsReserved(string name) => name.StartsWith("REQUESTS_PROXY_", StringComparison.Ordinal);
}

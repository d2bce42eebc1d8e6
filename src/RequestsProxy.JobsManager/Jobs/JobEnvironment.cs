namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The environment every job gets, in every runtime (DESIGN §6).</summary>
internal static class JobEnvironment
{
    public const string ProxyUrl = "REQUESTS_PROXY_URL";
    public const string TokenFile = "REQUESTS_PROXY_TOKEN_FILE";

    /// <summary>Names a request may not set: the jobs-manager owns them.</summary>
    public static bool IsReserved(string name) => name.StartsWith("REQUESTS_PROXY_", StringComparison.Ordinal);
}

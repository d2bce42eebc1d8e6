namespace RequestsProxy.Client;

/// <summary>What the jobs-manager puts in every training container (DESIGN §6).</summary>
public static class RequestsProxyEnvironment
{
    /// <summary>The proxy's base URL, e.g. <c>http://requests-proxy.ml:8888</c>.</summary>
    public const string Url = "REQUESTS_PROXY_URL";

    /// <summary>The mounted token file; rewritten on refresh and key rotation.</summary>
    public const string TokenFile = "REQUESTS_PROXY_TOKEN_FILE";

    /// <summary>The token itself, for clients that cannot read files; it never refreshes.</summary>
    public const string Token = "REQUESTS_PROXY_TOKEN";
}

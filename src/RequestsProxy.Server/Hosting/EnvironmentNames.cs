namespace RequestsProxy.Server.Hosting;

/// <summary>The environment contract (docs/architecture.md); configuration keys are these names verbatim.</summary>
internal static class EnvironmentNames
{
    public const string Stateless = "REQUESTS_PROXY_STATELESS";
    public const string KeysDirectory = "REQUESTS_PROXY_KEYS_DIR";
    public const string RevokedDirectory = "REQUESTS_PROXY_REVOKED_DIR";
    public const string KeysPollSeconds = "REQUESTS_PROXY_KEYS_POLL_SECONDS";
    public const string RevokedPollSeconds = "REQUESTS_PROXY_REVOKED_POLL_SECONDS";
    public const string Upstream = "REQUESTS_PROXY_UPSTREAM";
    public const string RoutesFile = "REQUESTS_PROXY_ROUTES_FILE";
    public const string UpstreamCredentialFile = "REQUESTS_PROXY_UPSTREAM_CREDENTIAL_FILE";
    public const string AdminTokenFile = "REQUESTS_PROXY_ADMIN_TOKEN_FILE";
    public const string Audience = "REQUESTS_PROXY_AUDIENCE";
    public const string Issuer = "REQUESTS_PROXY_ISSUER";
    public const string LeewaySeconds = "REQUESTS_PROXY_LEEWAY_SECONDS";
    public const string MaxBodyBytes = "REQUESTS_PROXY_MAX_BODY_BYTES";
    public const string UpstreamTimeoutSeconds = "REQUESTS_PROXY_UPSTREAM_TIMEOUT_SECONDS";
    public const string UpstreamConnectTimeoutSeconds = "REQUESTS_PROXY_UPSTREAM_CONNECT_TIMEOUT_SECONDS";
    public const string ShutdownTimeoutSeconds = "REQUESTS_PROXY_SHUTDOWN_TIMEOUT_SECONDS";
    public const string ManagementUrls = "REQUESTS_PROXY_MANAGEMENT_URLS";
    public const string MaxConnections = "REQUESTS_PROXY_MAX_CONNECTIONS";
    public const string IdleTimeoutSeconds = "REQUESTS_PROXY_IDLE_TIMEOUT_SECONDS";
    public const string ReleaseName = "RELEASE_NAME";
    public const string Namespace = "NAMESPACE";
}

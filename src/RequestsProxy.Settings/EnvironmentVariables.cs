namespace RequestsProxy.Settings;

/// <summary>
/// Every environment variable of the contract in docs/architecture.md, in one place: the proxy and
/// the jobs-manager read them, the chart and the demo set them, and the jobs-manager hands the job
/// variables to every training job. Configuration keys are these names verbatim.
/// </summary>
public static class EnvironmentVariables
{
    // Read by both services.

    /// <summary>true: signed tokens (the default); false: the legacy in-memory registry.</summary>
    public const string Stateless = "REQUESTS_PROXY_STATELESS";
    public const string KeysDirectory = "REQUESTS_PROXY_KEYS_DIR";
    public const string KeysPollSeconds = "REQUESTS_PROXY_KEYS_POLL_SECONDS";
    public const string RevokedDirectory = "REQUESTS_PROXY_REVOKED_DIR";

    /// <summary>The folder of legacy-tokens.json: the live legacy token digests (DESIGN §12); the jobs-manager's Local runtime writes it.</summary>
    public const string LegacyTokensDirectory = "REQUESTS_PROXY_LEGACY_TOKENS_DIR";
    public const string AdminTokenFile = "REQUESTS_PROXY_ADMIN_TOKEN_FILE";
    public const string Audience = "REQUESTS_PROXY_AUDIENCE";
    public const string Issuer = "REQUESTS_PROXY_ISSUER";
    public const string LeewaySeconds = "REQUESTS_PROXY_LEEWAY_SECONDS";
    public const string ReleaseName = "RELEASE_NAME";
    public const string Namespace = "NAMESPACE";

    // Read by the proxy.
    public const string RevokedPollSeconds = "REQUESTS_PROXY_REVOKED_POLL_SECONDS";
    public const string LegacyTokensPollSeconds = "REQUESTS_PROXY_LEGACY_TOKENS_POLL_SECONDS";

    /// <summary>
    /// Legacy proxy: not ready until a legacy jobs-manager has synced its registrations here
    /// (<c>POST /admin/v1/sync</c>), for at most this many seconds after start (0, the default: no wait).
    /// </summary>
    public const string LegacySyncWaitSeconds = "REQUESTS_PROXY_LEGACY_SYNC_WAIT_SECONDS";

    /// <summary>
    /// Legacy proxy: also accept admin requests carrying the admin token itself (<c>Authorization: Bearer</c>), as a
    /// jobs-manager older than signed admin requests sends them (default true: the upgrade from an older chart).
    /// Nothing of this version sends one; set false once no older jobs-manager can run (docs/proxy.md).
    /// </summary>
    public const string AdminAcceptBearer = "REQUESTS_PROXY_ADMIN_ACCEPT_BEARER";

    /// <summary>
    /// Legacy proxy: the <c>host:port</c> DNS names (comma-separated) a signed admin request may name as its target besides
    /// the address it arrived at (and <c>localhost</c> on loopback) — for a jobs-manager that reaches one replica by a
    /// Service name instead of pod addresses. Empty by default: the chart's jobs-manager signs pod IPs.
    /// </summary>
    public const string AdminTargetNames = "REQUESTS_PROXY_ADMIN_TARGET_NAMES";

    /// <summary>Legacy jobs-manager: a DNS name resolving to the legacy-mode proxy pods only (the only pods that get the admin token).</summary>
    public const string ProxyLegacyPodsDns = "REQUESTS_PROXY_LEGACY_PODS_DNS";

    /// <summary>
    /// Set (the chart): the revocation list spans exactly this many files (revoked.json,
    /// revoked-1.json, …) and the proxy is not ready until each has been read once. Unset: whatever
    /// files exist, none yet being the empty list (a laptop, the local demo).
    /// </summary>
    public const string RevokedShards = "REQUESTS_PROXY_REVOKED_SHARDS";

    /// <summary>true (the chart): not ready until legacy-tokens.json has been read once; false (default): no file yet is the empty list.</summary>
    public const string LegacyTokensRequired = "REQUESTS_PROXY_LEGACY_TOKENS_REQUIRED";
    public const string Upstream = "REQUESTS_PROXY_UPSTREAM";
    public const string RoutesFile = "REQUESTS_PROXY_ROUTES_FILE";
    public const string UpstreamCredentialFile = "REQUESTS_PROXY_UPSTREAM_CREDENTIAL_FILE";
    public const string MaxBodyBytes = "REQUESTS_PROXY_MAX_BODY_BYTES";
    public const string UpstreamTimeoutSeconds = "REQUESTS_PROXY_UPSTREAM_TIMEOUT_SECONDS";

    /// <summary>The longest a relay (an upgraded tunnel, a streaming request or answer) may last; 0: as long as its token is valid.</summary>
    public const string MaxRequestSeconds = "REQUESTS_PROXY_MAX_REQUEST_SECONDS";
    public const string UpstreamConnectTimeoutSeconds = "REQUESTS_PROXY_UPSTREAM_CONNECT_TIMEOUT_SECONDS";
    public const string ShutdownTimeoutSeconds = "REQUESTS_PROXY_SHUTDOWN_TIMEOUT_SECONDS";
    public const string ManagementUrls = "REQUESTS_PROXY_MANAGEMENT_URLS";
    public const string MaxConnections = "REQUESTS_PROXY_MAX_CONNECTIONS";
    public const string MaxConnectionsPerClient = "REQUESTS_PROXY_MAX_CONNECTIONS_PER_CLIENT";
    public const string IdleTimeoutSeconds = "REQUESTS_PROXY_IDLE_TIMEOUT_SECONDS";
    public const string AccessLog = "REQUESTS_PROXY_ACCESS_LOG";
    public const string AccessLogEvery = "REQUESTS_PROXY_ACCESS_LOG_EVERY";

    /// <summary>
    /// The Secret admission webhook (docs/operations.md#job-namespaces): the https addresses it is
    /// served on (unset: no webhook), the folder of its mounted <c>tls.crt</c>/<c>tls.key</c>, and the
    /// user whose Secret writes it judges (the jobs-manager's service account); everyone else is allowed.
    /// </summary>
    public const string AdmissionUrls = "REQUESTS_PROXY_ADMISSION_URLS";
    public const string AdmissionTlsDirectory = "REQUESTS_PROXY_ADMISSION_TLS_DIR";
    public const string AdmissionJobsManagerUser = "REQUESTS_PROXY_ADMISSION_JOBS_MANAGER_USER";

    /// <summary>The admission port under slow clients: open connections per client address (0: no cap), the time a review's body may take and the rate below which it is cut (0: none).</summary>
    public const string AdmissionMaxConnectionsPerClient = "REQUESTS_PROXY_ADMISSION_MAX_CONNECTIONS_PER_CLIENT";
    public const string AdmissionBodyTimeoutSeconds = "REQUESTS_PROXY_ADMISSION_BODY_TIMEOUT_SECONDS";
    public const string AdmissionMinBodyBytesPerSecond = "REQUESTS_PROXY_ADMISSION_MIN_BODY_BYTES_PER_SECOND";

    /// <summary>
    /// The store ConfigMaps the jobs-manager may create in the release namespace (comma-separated; the
    /// chart computes them from its values): unset, ConfigMap creates are not judged.
    /// </summary>
    public const string AdmissionStoreConfigMaps = "REQUESTS_PROXY_ADMISSION_STORE_CONFIGMAPS";

    /// <summary>The users that create a Job's pods (comma-separated; default: the Job controller's own service account and the controller manager's shared user).</summary>
    public const string AdmissionJobControllerUsers = "REQUESTS_PROXY_ADMISSION_JOB_CONTROLLER_USERS";

    /// <summary>Per-job limits of every route that sets none (docs/proxy.md#per-job-limits); 0 or unset: off.</summary>
    public const string RateLimitPerSecond = "REQUESTS_PROXY_RATE_LIMIT_PER_SECOND";
    public const string RateLimitBurst = "REQUESTS_PROXY_RATE_LIMIT_BURST";
    public const string ConcurrencyLimit = "REQUESTS_PROXY_CONCURRENCY_LIMIT";

    // Read by the jobs-manager.

    /// <summary>local or kubernetes.</summary>
    public const string Runtime = "JOBS_MANAGER_RUNTIME";
    public const string StateDirectory = "JOBS_MANAGER_STATE_DIR";
    public const string StateConfigMapName = "JOBS_MANAGER_STATE_CONFIGMAP_NAME";

    /// <summary>
    /// Comma-separated namespaces training Jobs and their token Secrets live in (chart value
    /// <c>jobNamespaces</c>); the first is where a start request without <c>namespace</c> goes.
    /// Unset: <see cref="Namespace"/> (the layout before job namespaces existed).
    /// </summary>
    public const string JobNamespaces = "JOBS_MANAGER_JOB_NAMESPACES";
    public const string RevokedConfigMapName = "REVOKED_CONFIGMAP_NAME";
    public const string LegacyTokensConfigMapName = "LEGACY_TOKENS_CONFIGMAP_NAME";

    /// <summary>How long a converted job's legacy token keeps working after its JWT was delivered (default 300).</summary>
    public const string LegacyTokenGraceSeconds = "JOBS_MANAGER_LEGACY_TOKEN_GRACE_SECONDS";

    /// <summary>ConfigMaps the revocation list is spread over; shard i &gt; 0 is &lt;REVOKED_CONFIGMAP_NAME&gt;-i.</summary>
    public const string RevokedConfigMapShards = "REVOKED_CONFIGMAP_SHARDS";

    // The operator's pod policy for job templates (chart values jobsManager.podPolicy).
    public const string AllowRunAsRoot = "JOBS_MANAGER_ALLOW_RUN_AS_ROOT";
    public const string AllowWritableRootFilesystem = "JOBS_MANAGER_ALLOW_WRITABLE_ROOT_FILESYSTEM";

    /// <summary>Allow tolerations without a key (operator Exists: every taint tolerated). Default false.</summary>
    public const string AllowTolerateAll = "JOBS_MANAGER_ALLOW_TOLERATE_ALL";

    /// <summary>Allow tolerating the control-plane taints and selecting control-plane nodes by label. Default false.</summary>
    public const string AllowControlPlaneNodes = "JOBS_MANAGER_ALLOW_CONTROL_PLANE_NODES";

    /// <summary>Comma-separated Linux capabilities a template may add (e.g. SYS_PTRACE,IPC_LOCK).</summary>
    public const string AllowedCapabilities = "JOBS_MANAGER_ALLOWED_CAPABILITIES";

    /// <summary>Comma-separated sysctls beyond Kubernetes' safe set a template may set: names or prefixes ending in '*' (e.g. kernel.msgmax,net.core.*).</summary>
    public const string AllowedSysctls = "JOBS_MANAGER_ALLOWED_SYSCTLS";

    /// <summary>Adopt mode (chart value jobsManager.adopt.enabled): labelled Jobs created by other tools get tokens.</summary>
    public const string Adopt = "JOBS_MANAGER_ADOPT";

    public const string DefaultScope = "JOBS_MANAGER_DEFAULT_SCOPE";
    public const string TokenTtlSeconds = "REQUESTS_PROXY_TOKEN_TTL_SECONDS";
    public const string RefreshCheckSeconds = "JOBS_MANAGER_REFRESH_CHECK_SECONDS";
    public const string PruneIntervalSeconds = "JOBS_MANAGER_PRUNE_INTERVAL_SECONDS";
    public const string ProxyPodsDns = "REQUESTS_PROXY_PODS_DNS";
    public const string ProxyPodsPort = "REQUESTS_PROXY_PODS_PORT";

    /// <summary>Local runtime: a file naming every proxy replica's base URL, one a line, read at each legacy registration (the local headless Service).</summary>
    public const string ProxyPodsFile = "REQUESTS_PROXY_PODS_FILE";

    /// <summary>Local runtime: true lets jobs outlive the jobs-manager; the next one on the same state directory adopts them (default false).</summary>
    public const string LocalKeepJobs = "JOBS_MANAGER_LOCAL_KEEP_JOBS";

    /// <summary>Recreate, empty, a store ConfigMap that was deleted while the others exist (accepting the loss of what it held).</summary>
    public const string RecreateMissingStores = "JOBS_MANAGER_RECREATE_MISSING_STORES";

    // Read by the jobs-manager and handed to every training job.

    /// <summary>The proxy's URL: where the jobs-manager registers legacy tokens and where a job sends its requests.</summary>
    public const string ProxyUrl = "REQUESTS_PROXY_URL";

    // Set by the jobs-manager for every training job.

    /// <summary>The file holding the job's current token (re-read on every request: it changes on refresh).</summary>
    public const string TokenFile = "REQUESTS_PROXY_TOKEN_FILE";

    /// <summary>The token itself, for clients that cannot read files; fixed when the job starts, so it never sees a refresh.</summary>
    public const string Token = "REQUESTS_PROXY_TOKEN";

    /// <summary>The prefix the jobs-manager reserves: a job spec may not set these itself.</summary>
    public const string ReservedPrefix = "REQUESTS_PROXY_";
}

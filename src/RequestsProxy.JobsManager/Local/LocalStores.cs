using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.IO;
using RequestsProxy.Tokens.Legacy;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Local;

/// <summary>Where the local runtime keeps its documents: revoked.json in the folder the local proxy polls, jobs.json in the state folder.</summary>
internal static class LocalStores
{
    public const string JobLedgerFileName = "jobs.json";

    public static FileDocumentStore<RevocationList> Revocation(JobsManagerOptions options) =>
        new(Path.Combine(options.RevokedDirectory, RevocationFile.FileName), RevocationListCodec.Instance);

    /// <summary>Read by the local proxy (REQUESTS_PROXY_LEGACY_TOKENS_DIR): digests only, never tokens.</summary>
    public static FileDocumentStore<LegacyTokenList> LegacyTokens(JobsManagerOptions options) =>
        new(Path.Combine(options.LegacyTokensDirectory, LegacyTokenList.FileName), LegacyTokenListCodec.Instance);

    /// <summary>The issuing marker beside legacy-tokens.json, read by the local stateless proxy before it is ready.</summary>
    public static FileDocumentStore<Tokens.Legacy.LegacyIssuer> LegacyIssuer(JobsManagerOptions options) =>
        new(Path.Combine(options.LegacyTokensDirectory, Tokens.Legacy.LegacyIssuer.FileName), LegacyIssuerCodec.Instance);

    /// <summary>Owner-only: the ledger names every job and its token ids.</summary>
    public static FileDocumentStore<JobLedgerDocument> JobLedger(JobsManagerOptions options) =>
        new(Path.Combine(options.StateDirectory, JobLedgerFileName), JobLedgerCodec.Instance, AtomicFile.Private);
}

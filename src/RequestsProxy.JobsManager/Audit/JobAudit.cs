using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Audit;

/// <summary>
/// The audit trail: one line per token handed to a job and per revocation, naming the job (<c>sub</c>),
/// the tokens (<c>jti</c>, kid), why, and who asked (<see cref="AuditCaller"/>). Its own log category,
/// <c>RequestsProxy.JobsManager.Audit</c>, at Information, so operators can ship it apart or keep it
/// when lowering everything else (<c>Logging__LogLevel__RequestsProxy.JobsManager.Audit</c>).
/// Tokens themselves are never written.
/// </summary>
internal sealed partial class JobAudit
{
    /// <summary>The log category of every audit line.</summary>
    public const string Category = "RequestsProxy.JobsManager.Audit";

    private readonly ILogger _logger;

    public JobAudit(ILoggerFactory loggers) => _logger = loggers.CreateLogger(Category);

    /// <summary>Writes nothing (unit tests of the collaborators that do not look at the trail).</summary>
    public static JobAudit None { get; } = new(NullLoggerFactory.Instance);

    /// <param name="reason">start, refresh, rotation, cutover or adopt: the metric's reason tag.</param>
    public void Issued(string job, IssuedToken token, string reason) =>
        Log.Issued(_logger, reason, job, token.Jti, token.Kid ?? "legacy", token.ExpiresAt, AuditCaller.Current);

    /// <param name="reason">stop, finished, abandoned (a launch that failed) or gone (the runtime lost the job).</param>
    public void Revoked(string job, IReadOnlyList<IssuedToken> tokens, string reason) =>
        Log.Revoked(_logger, reason, job, tokens.Count, string.Join(',', tokens.Select(t => t.Jti)),
            string.Join(',', tokens.Select(t => t.Kid ?? "legacy").Distinct(StringComparer.Ordinal)), AuditCaller.Current);

    /// <summary>A stop for a job this jobs-manager does not know: nothing of ours to revoke, the runtime is told to delete it anyway.</summary>
    public void StoppedUnknown(string job) => Log.StoppedUnknown(_logger, job, AuditCaller.Current);

    /// <summary>Adopt mode: a labelled Job gets no token because its manifest breaks the rules.</summary>
    public void AdoptionRefused(string job, string ns, string why) => Log.AdoptionRefused(_logger, ns, job, why, AuditCaller.Current);

    /// <summary>An admin call refused for its bearer token (missing or wrong).</summary>
    public void Refused(string caller, string path, string error) => Log.Refused(_logger, path, error, caller);

    private static partial class Log
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Information,
            Message = "audit {Action}: job {Sub} got token {Jti} (kid {Kid}, expires {ExpiresAt}) by {Caller}")]
        public static partial void Issued(ILogger logger, string action, string sub, string jti, string kid, DateTimeOffset? expiresAt, string caller);

        [LoggerMessage(EventId = 901, Level = LogLevel.Information,
            Message = "audit revoke ({Reason}): job {Sub}, {Count} tokens [{Jtis}] (kids {Kids}) by {Caller}")]
        public static partial void Revoked(ILogger logger, string reason, string sub, int count, string jtis, string kids, string caller);

        [LoggerMessage(EventId = 902, Level = LogLevel.Information,
            Message = "audit stop: job {Sub} is not known here; deleted from the runtime, nothing revoked, by {Caller}")]
        public static partial void StoppedUnknown(ILogger logger, string sub, string caller);

        [LoggerMessage(EventId = 903, Level = LogLevel.Warning,
            Message = "audit refused: {Path} ({Error}) by {Caller}")]
        public static partial void Refused(ILogger logger, string path, string error, string caller);

        [LoggerMessage(EventId = 904, Level = LogLevel.Warning,
            Message = "audit refused adopt: Job {Namespace}/{Sub} gets no token: {Why}, by {Caller}")]
        public static partial void AdoptionRefused(ILogger logger, string @namespace, string sub, string why, string caller);
    }
}

using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Api;

/// <summary>The jobs-manager's own types as the wire types of <see cref="RequestsProxy.JobsApi"/>: stable lowercase names, the bodies it answers.</summary>
internal static class ApiText
{
    public static string State(JobState state) => state switch
    {
        JobState.Pending => JobStates.Pending,
        JobState.Running => JobStates.Running,
        JobState.Succeeded => JobStates.Succeeded,
        JobState.Failed => JobStates.Failed,
        JobState.Stopping => JobStates.Stopping,
        JobState.Missing => JobStates.Missing,
        JobState.Unreachable => JobStates.Unreachable,
        JobState.Refused => JobStates.Refused,
        _ => JobStates.Unknown,
    };

    /// <summary>A job on the wire.</summary>
    public static JobResponse Job(JobView view) => new(
        view.Name,
        State(view.State),
        view.Image,
        view.Command,
        view.Scope,
        view.CreatedAt,
        view.Token is { } t ? new TokenResponse(t.Jti, t.Kid, t.IssuedAt, t.ExpiresAt) : null,
        view.TokensIssued,
        view.TokenFile,
        view.TokensRevoked,
        view.Namespace,
        view.Adopted,
        view.Problem);

    /// <summary>Live tokens per kid on the wire; a kid is safe to retire when it is not active and no live token uses it.</summary>
    /// <summary>The usage, with the lifetime and leeway a retirement must be judged by (rpctl asks instead of assuming 90 days).</summary>
    public static KeyUsageResponse KeyUsage(KeyUsage usage, TimeSpan tokenLifetime, TimeSpan leeway) => new(usage.ActiveKid, [.. usage.Keys.Select(k => new KidUsageResponse(
        k.Kid, k.Active, k.InRing, k.LiveTokens, k.CurrentTokens, k.LatestExpiry,
        SafeToRetire: !k.Active && k.LiveTokens == 0, k.RevokedTokens, k.UnreachableTokens))],
        (long)tokenLifetime.TotalSeconds,
        (long)leeway.TotalSeconds);

    public static (int Status, string Code) Error(JobError error) => error switch
    {
        JobError.Invalid => (StatusCodes.Status400BadRequest, "invalid_request"),
        JobError.Conflict => (StatusCodes.Status409Conflict, "conflict"),
        JobError.NotReady => (StatusCodes.Status503ServiceUnavailable, "not_ready"),
        JobError.Full => (StatusCodes.Status507InsufficientStorage, "insufficient_storage"),
        _ => (StatusCodes.Status502BadGateway, "backend_error"),
    };
}

using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Api;

/// <summary>Stable lowercase names used on the wire.</summary>
internal static class ApiText
{
    public static string State(JobState state) => state switch
    {
        JobState.Pending => "pending",
        JobState.Running => "running",
        JobState.Succeeded => "succeeded",
        JobState.Failed => "failed",
        JobState.Stopping => "stopping",
        JobState.Missing => "missing",
        _ => "unknown",
    };

    public static (int Status, string Code) Error(JobError error) => error switch
    {
        JobError.Invalid => (StatusCodes.Status400BadRequest, "invalid_request"),
        JobError.Conflict => (StatusCodes.Status409Conflict, "conflict"),
        JobError.NotReady => (StatusCodes.Status503ServiceUnavailable, "not_ready"),
        _ => (StatusCodes.Status502BadGateway, "backend_error"),
    };
}

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The outcome of a core operation: a value, or an error with a message fit for the API.</summary>
internal sealed record JobResult<T>(T? Value, JobError Error, string? Message)
{
    public bool Succeeded => Error == JobError.None;

    public static JobResult<T> Ok(T value) => new(value, JobError.None, null);

    public static JobResult<T> Fail(JobError error, string message) => new(default, error, message);
}

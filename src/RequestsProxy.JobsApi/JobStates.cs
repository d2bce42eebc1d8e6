namespace RequestsProxy.JobsApi;

/// <summary>The values of <see cref="JobResponse.State"/> on the wire.</summary>
public static class JobStates
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Stopping = "stopping";
    public const string Missing = "missing";
    public const string Unknown = "unknown";

    /// <summary>A job that holds a live token: it is starting or running.</summary>
    public static bool IsLive(string state) => state is Pending or Running;
}

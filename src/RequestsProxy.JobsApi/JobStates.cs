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

    /// <summary>Recorded in a namespace the jobs-manager may no longer read: tokens kept, not refreshed (see <see cref="JobResponse.Problem"/>).</summary>
    public const string Unreachable = "unreachable";

    /// <summary>Adopt mode: a labelled Job that gets no token; <see cref="JobResponse.Problem"/> says why.</summary>
    public const string Refused = "refused";
    public const string Unknown = "unknown";

    /// <summary>A job that holds a live token: it is starting or running.</summary>
    public static bool IsLive(string state) => state is Pending or Running;
}

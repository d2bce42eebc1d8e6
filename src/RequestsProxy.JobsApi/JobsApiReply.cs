namespace RequestsProxy.JobsApi;

/// <summary>A parsed answer and its raw JSON (what <c>--output json</c> prints, so no field is lost).</summary>
public sealed record JobsApiReply<T>(T Value, string Json);

using System.Text.Json;
using System.Text.Json.Serialization;

namespace RequestsProxy.JobsApi;

/// <summary>
/// The client's side of the jobs-manager's wire format (camelCase). Unknown members are ignored,
/// unlike on the server (whose own context refuses them): a newer jobs-manager adding a field must
/// not break an older rpctl. Null members are left out of requests so the server's defaults apply.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StartJobRequest))]
[JsonSerializable(typeof(JobResponse))]
[JsonSerializable(typeof(JobListResponse))]
[JsonSerializable(typeof(StopJobResponse))]
[JsonSerializable(typeof(KeyUsageResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class JobsApiJsonContext : JsonSerializerContext;

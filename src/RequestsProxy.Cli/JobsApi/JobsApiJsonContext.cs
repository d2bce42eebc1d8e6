using System.Text.Json;
using System.Text.Json.Serialization;

namespace RequestsProxy.Cli.JobsApi;

/// <summary>
/// The jobs-manager's wire format (camelCase). Unknown members are ignored, unlike on the server:
/// a newer jobs-manager adding a field must not break an older rpctl.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StartJobBody))]
[JsonSerializable(typeof(JobBody))]
[JsonSerializable(typeof(JobListBody))]
[JsonSerializable(typeof(StopJobBody))]
[JsonSerializable(typeof(KeyUsageBody))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class JobsApiJsonContext : JsonSerializerContext;

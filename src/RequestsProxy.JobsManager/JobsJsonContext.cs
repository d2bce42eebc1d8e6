using System.Text.Json;
using System.Text.Json.Serialization;
using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager;

/// <summary>
/// Source-generated JSON for the API and the legacy registration. Unknown members are refused so
/// a typo ("imag") is a 400 naming the field, not a silently ignored setting; a member given twice
/// is a 400 too, not "the last one wins".
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(StartJobRequest))]
[JsonSerializable(typeof(JobResponse))]
[JsonSerializable(typeof(JobListResponse))]
[JsonSerializable(typeof(StopJobResponse))]
[JsonSerializable(typeof(KeyUsageResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(LegacyRegistration))]
[JsonSerializable(typeof(LegacySync))]
internal sealed partial class JobsJsonContext : JsonSerializerContext;

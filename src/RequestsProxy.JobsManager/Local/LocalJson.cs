using System.Text.Json.Serialization;

namespace RequestsProxy.JobsManager.Local;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ProcessRecord))]
internal sealed partial class LocalJson : JsonSerializerContext;

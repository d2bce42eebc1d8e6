using System.Text.Json.Serialization;

namespace RequestsProxy.Demo;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(WorkerEvent))]
internal sealed partial class DemoJson : JsonSerializerContext;

using System.Text.Json.Serialization;

namespace RequestsProxy.Cli.Demo;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(WorkerEvent))]
internal sealed partial class DemoJson : JsonSerializerContext;

using System.Text.Json;
using System.Text.Json.Serialization;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>Serializer settings for hand-written patches that embed model objects (camelCase, no nulls).</summary>
internal static class KubernetesJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

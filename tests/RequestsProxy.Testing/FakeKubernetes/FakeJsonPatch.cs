using System.Net;
using System.Text.Json.Nodes;

namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>The one patch format anything here sends: JSON merge patch (RFC 7386). Any other is a 415.</summary>
internal static class FakeJsonPatch
{
    public const string MergePatch = "application/merge-patch+json";

    public static JsonObject Apply(JsonObject target, string? contentType, string body)
    {
        var mediaType = (contentType ?? string.Empty).Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType != MergePatch)
        {
            throw new FakeKubernetesException(
                HttpStatusCode.UnsupportedMediaType,
                "UnsupportedMediaType",
                $"the fake Kubernetes API server accepts only {MergePatch} patches (got \"{mediaType}\")");
        }

        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw FakeKubernetesException.BadRequest($"error decoding patch: {e.Message}");
        }

        return patch is JsonObject ? (JsonObject)Merge(target, patch)! : throw FakeKubernetesException.BadRequest("merge patch must be a JSON object");
    }

    /// <summary>Objects merge member by member, null removes a member, anything else replaces.</summary>
    private static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : new JsonObject();
        foreach (var (name, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(name);
            }
            else
            {
                result[name] = Merge(result[name], value);
            }
        }

        return result;
    }
}

using System.Net;
using System.Text.Json.Nodes;

namespace RequestsProxy.Testing.Kubernetes;

/// <summary>
/// The patch formats the API server accepts. Strategic merge patch is applied as a JSON merge
/// patch (RFC 7386): identical for maps and scalars, which is all the jobs-manager patches; lists
/// with merge keys (containers, env) would be replaced whole instead of merged.
/// </summary>
internal static class FakeJsonPatch
{
    public static JsonObject Apply(JsonObject target, string? contentType, string body)
    {
        var mediaType = (contentType ?? string.Empty).Split(';')[0].Trim().ToLowerInvariant();
        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw FakeKubernetesException.BadRequest($"error decoding patch: {e.Message}");
        }

        switch (mediaType)
        {
            case "application/merge-patch+json":
            case "application/strategic-merge-patch+json":
                if (patch is not JsonObject)
                {
                    throw FakeKubernetesException.BadRequest("merge patch must be a JSON object");
                }

                return (JsonObject)MergePatch(target, patch)!;
            case "application/json-patch+json":
                if (patch is not JsonArray operations)
                {
                    throw FakeKubernetesException.BadRequest("json patch must be a JSON array of operations");
                }

                return JsonPatch(target, operations);
            default:
                throw new FakeKubernetesException(
                    HttpStatusCode.UnsupportedMediaType,
                    "UnsupportedMediaType",
                    $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got \"{mediaType}\")");
        }
    }

    private static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
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
                result[name] = MergePatch(result[name], value);
            }
        }

        return result;
    }

    private static JsonObject JsonPatch(JsonObject target, JsonArray operations)
    {
        JsonNode document = target.DeepClone();
        foreach (var item in operations)
        {
            if (item is not JsonObject operation || operation["op"]?.GetValue<string>() is not { } op || operation["path"]?.GetValue<string>() is not { } path)
            {
                throw FakeKubernetesException.BadRequest("json patch operation needs \"op\" and \"path\"");
            }

            switch (op)
            {
                case "add":
                    document = Add(document, path, operation["value"]?.DeepClone());
                    break;
                case "remove":
                    Remove(document, path);
                    break;
                case "replace":
                    Remove(document, path);
                    document = Add(document, path, operation["value"]?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Resolve(document, path), operation["value"]))
                    {
                        throw new FakeKubernetesException(HttpStatusCode.UnprocessableEntity, "Invalid", $"the server rejected our request due to an error in our request: testing value at {path} failed");
                    }

                    break;
                case "move" or "copy":
                    var from = operation["from"]?.GetValue<string>() ?? throw FakeKubernetesException.BadRequest($"{op} needs \"from\"");
                    var value = Resolve(document, from)?.DeepClone();
                    if (op == "move")
                    {
                        Remove(document, from);
                    }

                    document = Add(document, path, value);
                    break;
                default:
                    throw FakeKubernetesException.BadRequest($"unexpected json patch operation \"{op}\"");
            }
        }

        return document as JsonObject ?? throw FakeKubernetesException.BadRequest("json patch replaced the whole object with a non-object");
    }

    private static string[] Tokens(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw FakeKubernetesException.BadRequest($"invalid JSON pointer \"{pointer}\"");
        }

        return pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
    }

    private static JsonNode? Resolve(JsonNode document, string pointer)
    {
        JsonNode? current = document;
        foreach (var token in Tokens(pointer))
        {
            current = current switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when int.TryParse(token, out var index) && index >= 0 && index < a.Count => a[index],
                _ => throw new FakeKubernetesException(HttpStatusCode.UnprocessableEntity, "Invalid", $"the server rejected our request: path {pointer} does not exist"),
            };
        }

        return current;
    }

    private static (JsonNode Parent, string Token) Parent(JsonNode document, string pointer)
    {
        var tokens = Tokens(pointer);
        var parentPointer = string.Concat(tokens[..^1].Select(t => "/" + t.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)));
        var parent = Resolve(document, parentPointer)
            ?? throw new FakeKubernetesException(HttpStatusCode.UnprocessableEntity, "Invalid", $"the server rejected our request: parent of {pointer} is null");
        return (parent, tokens[^1]);
    }

    private static JsonNode Add(JsonNode document, string path, JsonNode? value)
    {
        if (path.Length == 0)
        {
            return value ?? throw FakeKubernetesException.BadRequest("cannot replace the document with null");
        }

        var (parent, token) = Parent(document, path);
        switch (parent)
        {
            case JsonObject o:
                o[token] = value;
                break;
            case JsonArray a when token == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(token, out var index) && index >= 0 && index <= a.Count:
                a.Insert(index, value);
                break;
            default:
                throw new FakeKubernetesException(HttpStatusCode.UnprocessableEntity, "Invalid", $"the server rejected our request: cannot add at {path}");
        }

        return document;
    }

    private static void Remove(JsonNode document, string path)
    {
        var (parent, token) = Parent(document, path);
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(token):
                o.Remove(token);
                break;
            case JsonArray a when int.TryParse(token, out var index) && index >= 0 && index < a.Count:
                a.RemoveAt(index);
                break;
            default:
                throw new FakeKubernetesException(HttpStatusCode.UnprocessableEntity, "Invalid", $"the server rejected our request: path {path} does not exist");
        }
    }
}

using System.Text.Json.Nodes;

namespace RequestsProxy.Chart.Tests;

internal static class JsonNodeExtensions
{
    /// <summary>The string at a path of object keys, or null.</summary>
    public static string? Str(this JsonNode? node, params string[] path)
    {
        JsonNode? current = node;
        foreach (var key in path)
        {
            current = current?[key];
        }

        return current?.GetValueKind() == System.Text.Json.JsonValueKind.String ? current.GetValue<string>() : current?.ToJsonString();
    }

    /// <summary>Every value of a property with this name anywhere under the node.</summary>
    public static IEnumerable<JsonNode?> FindAll(this JsonNode? node, string propertyName)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    if (key == propertyName)
                    {
                        yield return value;
                    }

                    foreach (var nested in value.FindAll(propertyName))
                    {
                        yield return nested;
                    }
                }

                break;
            case JsonArray a:
                foreach (var nested in a.SelectMany(item => item.FindAll(propertyName)))
                {
                    yield return nested;
                }

                break;
        }
    }
}

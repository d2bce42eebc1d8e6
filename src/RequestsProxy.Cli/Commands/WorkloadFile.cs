using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RequestsProxy.Cli.Commands;

/// <summary>
/// Reads the Job manifest of <c>jobs start --job</c> or the pod template of <c>--template</c> from
/// a file (or <c>-</c>, standard input), as JSON or YAML, into the JSON the jobs-manager takes. YAML
/// goes through YamlDotNet's representation model (already a dependency of KubernetesClient) and
/// the YAML 1.2 core schema: a quoted scalar stays a string, a plain one becomes a number, a
/// boolean or null when it reads as one — so <c>"true"</c> is a label value and <c>3</c> a count,
/// as kubectl sends them. Nothing is dropped: unknown fields reach the API, which names them.
/// </summary>
internal static class WorkloadFile
{
    public static JsonObject Read(string path, string option, TextReader stdin)
    {
        string text;
        try
        {
            text = path == "-" ? stdin.ReadToEnd() : File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{option} {path}: {e.Message}");
        }

        var source = path == "-" ? "standard input" : path;
        var node = text.TrimStart().StartsWith('{') ? ParseJson(text, option, source) : ParseYaml(text, option, source);
        return node as JsonObject ?? throw new CliException($"{option} {source}: expected an object (a mapping), not {Describe(node)}");
    }

    private static JsonNode? ParseJson(string text, string option, string source)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new CliException($"{option} {source} is not valid JSON: {e.Message}");
        }
    }

    private static JsonNode? ParseYaml(string text, string option, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new CliException($"{option} {source} is not valid YAML (line {e.Start.Line}, column {e.Start.Column}): {e.InnerException?.Message ?? e.Message}");
        }

        var documents = stream.Documents.Where(d => !IsEmpty(d.RootNode)).ToList();
        return documents.Count switch
        {
            0 => throw new CliException($"{option} {source} is empty"),
            1 => Convert(documents[0].RootNode, option, source),
            _ => throw new CliException($"{option} {source} holds {documents.Count} YAML documents: give exactly one"),
        };
    }

    private static bool IsEmpty(YamlNode node) => node is YamlScalarNode { Value: null or "" } scalar && scalar.Style == ScalarStyle.Plain;

    private static JsonNode? Convert(YamlNode node, string option, string source)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new CliException($"{option} {source} (line {key.Start.Line}): a key must be a plain string");
                    }

                    if (obj.ContainsKey(name))
                    {
                        throw new CliException($"{option} {source} (line {key.Start.Line}): the key '{name}' is given twice");
                    }

                    obj[name] = Convert(value, option, source);
                }

                return obj;

            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item, option, source));
                }

                return array;

            case YamlScalarNode scalar:
                return Scalar(scalar);

            default:
                throw new CliException($"{option} {source} (line {node.Start.Line}): unsupported YAML node");
        }
    }

    /// <summary>The YAML 1.2 core schema's tag resolution for plain scalars; anything quoted, or with a !!str tag, is a string.</summary>
    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain || (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value is "tag:yaml.org,2002:str" or "!!str"))
        {
            return JsonValue.Create(value);
        }

        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (System.Text.RegularExpressions.Regex.IsMatch(value, "^[-+]?[0-9]+$") && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (value.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(value[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
        {
            return JsonValue.Create(hex);
        }

        if (value.StartsWith("0o", StringComparison.Ordinal) && value.Length > 2 && value[2..].All(c => c is >= '0' and <= '7'))
        {
            return JsonValue.Create(System.Convert.ToInt64(value[2..], 8));
        }

        if (System.Text.RegularExpressions.Regex.IsMatch(value, @"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
            && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
        {
            return JsonValue.Create(real);
        }

        return JsonValue.Create(value);
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "a list",
        _ => $"the value {node.ToJsonString()}",
    };
}

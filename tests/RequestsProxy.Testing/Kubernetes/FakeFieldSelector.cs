using System.Text.Json.Nodes;

namespace RequestsProxy.Testing.Kubernetes;

/// <summary>The <c>fieldSelector</c> fields every kind supports: <c>metadata.name</c> and <c>metadata.namespace</c>.</summary>
internal sealed class FakeFieldSelector
{
    private readonly List<(string Field, bool Equal, string Value)> _terms;

    private FakeFieldSelector(List<(string Field, bool Equal, string Value)> terms)
    {
        _terms = terms;
    }

    public static FakeFieldSelector Parse(string? selector)
    {
        var terms = new List<(string, bool, string)>();
        if (string.IsNullOrWhiteSpace(selector))
        {
            return new FakeFieldSelector(terms);
        }

        foreach (var term in selector.Split(',', StringSplitOptions.TrimEntries))
        {
            var notEquals = term.IndexOf("!=", StringComparison.Ordinal);
            var equals = term.IndexOf('=', StringComparison.Ordinal);
            var (field, equal, value) = notEquals > 0
                ? (term[..notEquals], false, term[(notEquals + 2)..])
                : equals > 0
                    ? (term[..equals], true, term[(equals + 1)..].TrimStart('='))
                    : throw FakeKubernetesException.BadRequest($"invalid field selector: \"{term}\"");
            if (field is not ("metadata.name" or "metadata.namespace"))
            {
                throw FakeKubernetesException.BadRequest($"field label not supported: {field}");
            }

            terms.Add((field, equal, value));
        }

        return new FakeFieldSelector(terms);
    }

    public bool Matches(JsonObject item)
    {
        foreach (var (field, equal, value) in _terms)
        {
            var actual = field == "metadata.name"
                ? item["metadata"]?["name"]?.GetValue<string>()
                : item["metadata"]?["namespace"]?.GetValue<string>();
            if ((actual == value) != equal)
            {
                return false;
            }
        }

        return true;
    }
}

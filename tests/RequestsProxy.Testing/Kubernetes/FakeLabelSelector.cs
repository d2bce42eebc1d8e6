namespace RequestsProxy.Testing.Kubernetes;

/// <summary>
/// A parsed <c>labelSelector</c> query: <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>,
/// <c>k in (a,b)</c>, <c>k notin (a,b)</c>, comma-separated and ANDed, as the API server reads it.
/// </summary>
internal sealed class FakeLabelSelector
{
    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> _requirements;

    private FakeLabelSelector(List<Func<IReadOnlyDictionary<string, string>, bool>> requirements)
    {
        _requirements = requirements;
    }

    public static FakeLabelSelector Everything { get; } = new([]);

    public static FakeLabelSelector Parse(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }

        var requirements = new List<Func<IReadOnlyDictionary<string, string>, bool>>();
        foreach (var raw in SplitTopLevel(selector))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                throw FakeKubernetesException.BadRequest($"unable to parse requirement: found '', expected: identifier in \"{selector}\"");
            }

            requirements.Add(ParseTerm(term, selector));
        }

        return new FakeLabelSelector(requirements);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels) => _requirements.TrueForAll(r => r(labels));

    private static Func<IReadOnlyDictionary<string, string>, bool> ParseTerm(string term, string selector)
    {
        if (term.StartsWith('!'))
        {
            var key = term[1..].Trim();
            return labels => !labels.ContainsKey(key);
        }

        var notEquals = term.IndexOf("!=", StringComparison.Ordinal);
        if (notEquals > 0)
        {
            var key = term[..notEquals].Trim();
            var value = term[(notEquals + 2)..].Trim();
            return labels => !labels.TryGetValue(key, out var actual) || actual != value;
        }

        var equals = term.IndexOf('=', StringComparison.Ordinal);
        if (equals > 0)
        {
            var key = term[..equals].Trim();
            var value = term[(equals + 1)..].TrimStart('=').Trim();
            return labels => labels.TryGetValue(key, out var actual) && actual == value;
        }

        var open = term.IndexOf('(', StringComparison.Ordinal);
        if (open > 0 && term.EndsWith(')'))
        {
            var head = term[..open].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = term[(open + 1)..^1].Split(',', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            if (head.Length == 2 && head[1] == "in")
            {
                var key = head[0];
                return labels => labels.TryGetValue(key, out var actual) && values.Contains(actual);
            }

            if (head.Length == 2 && head[1] == "notin")
            {
                var key = head[0];
                return labels => !labels.TryGetValue(key, out var actual) || !values.Contains(actual);
            }

            throw FakeKubernetesException.BadRequest($"unable to parse requirement: \"{term}\" in \"{selector}\"");
        }

        if (term.Contains(' ', StringComparison.Ordinal))
        {
            throw FakeKubernetesException.BadRequest($"unable to parse requirement: \"{term}\" in \"{selector}\"");
        }

        return labels => labels.ContainsKey(term);
    }

    private static IEnumerable<string> SplitTopLevel(string selector)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            switch (selector[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return selector[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return selector[start..];
    }
}

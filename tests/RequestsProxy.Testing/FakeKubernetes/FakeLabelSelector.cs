namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>
/// A <c>labelSelector</c> of equality terms (<c>k=v</c>, comma-separated and ANDed): the only
/// form anything here sends. Set-based terms are a 400.
/// </summary>
internal sealed class FakeLabelSelector
{
    private readonly List<(string Key, string Value)> _terms;

    private FakeLabelSelector(List<(string Key, string Value)> terms)
    {
        _terms = terms;
    }

    public static FakeLabelSelector Parse(string? selector)
    {
        var terms = new List<(string, string)>();
        foreach (var term in (selector ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = term.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || term.Contains("!=", StringComparison.Ordinal) || term.Contains(' ', StringComparison.Ordinal))
            {
                throw FakeKubernetesException.BadRequest($"the fake Kubernetes API server takes only key=value label selectors, not \"{term}\"");
            }

            terms.Add((term[..equals], term[(equals + 1)..].TrimStart('=')));
        }

        return new FakeLabelSelector(terms);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels) =>
        _terms.TrueForAll(t => labels.TryGetValue(t.Key, out var actual) && actual == t.Value);
}

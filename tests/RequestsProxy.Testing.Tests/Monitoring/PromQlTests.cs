using RequestsProxy.Testing.Monitoring;

namespace RequestsProxy.Testing.Tests.Monitoring;

public sealed class PromQlTests
{
    [Theory]
    [InlineData("up", "up")]
    [InlineData("sum by (reason) (rate(requests_proxy_requests_total{namespace=\"jobs\",outcome!=\"forwarded\"}[5m])) > 1", "requests_proxy_requests_total")]
    [InlineData("histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{x=\"y\"}[$__rate_interval])))", "a_seconds_bucket")]
    [InlineData("max(a_bytes{n=\"$namespace\"}) / max(b_bytes) > 0.8", "a_bytes,b_bytes")]
    [InlineData("count by (namespace, kid) (k) < on (namespace) group_left count by (namespace) (r)", "k,r")]
    [InlineData("increase(a_total[10m] offset 5m) > 0 or min without (pod) (b) == bool 0", "a_total,b")]
    [InlineData("sum(rate(x{a=~\"by (me)|or\"}[1m])) by (le)", "x")]
    [InlineData("1e3 * nan + vector(1)", "")]
    public void MetricNames_Expression_OnlyTheSeriesItReads(string expression, string expected)
    {
        var names = PromQl.MetricNames(expression);

        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ExposedNames_Exposition_SampleNamesWithoutLabels()
    {
        const string text = "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"1\"} 3 1700000000000\nb_seconds_bucket{le=\"+Inf\"} 1\nc 0\n";

        Assert.Equal(["a_total", "b_seconds_bucket", "c"], PromQl.ExposedNames(text).Order(StringComparer.Ordinal));
    }
}

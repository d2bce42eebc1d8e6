using Microsoft.Extensions.Configuration;
using RequestsProxy.Server.RateLimiting;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.Tests.RateLimiting;

public sealed class JobLimitRulesTests
{
    private static JobLimits Defaults(params (string Key, string Value)[] values) =>
        JobLimitRules.LoadDefaults(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build());

    private static RouteConfig Route(params (string Key, string Value)[] metadata) =>
        new() { RouteId = "r", ClusterId = "c", Match = new RouteMatch { Path = "/r" }, Metadata = metadata.ToDictionary(m => m.Key, m => m.Value) };

    [Fact]
    public void LoadDefaults_Nothing_Unlimited() => Assert.True(Defaults().IsUnlimited);

    [Fact]
    public void LoadDefaults_RateWithoutBurst_OneSecondsWorth()
    {
        Assert.Equal(new JobLimits(10, 10, 0), Defaults((RateLimitNames.RequestsPerSecondVariable, "10")));
        Assert.Equal(new JobLimits(0.5, 1, 0), Defaults((RateLimitNames.RequestsPerSecondVariable, "0.5")));
    }

    [Fact]
    public void ForRoute_NoMetadata_TheDefaults()
    {
        var defaults = new JobLimits(5, 20, 4);
        Assert.Equal(defaults, JobLimitRules.ForRoute(Route(), defaults));
    }

    [Fact]
    public void ForRoute_RateOnly_OwnBurstDefaultConcurrency()
    {
        var limits = JobLimitRules.ForRoute(Route((RateLimitNames.RequestsPerSecondMetadata, "2")), new JobLimits(5, 20, 4));
        Assert.Equal(new JobLimits(2, 2, 4), limits);
    }

    [Fact]
    public void ForRoute_ZeroRate_RateOffConcurrencyKept()
    {
        var limits = JobLimitRules.ForRoute(Route((RateLimitNames.RequestsPerSecondMetadata, "0")), new JobLimits(5, 20, 4));
        Assert.Equal(new JobLimits(0, 0, 4), limits);
        Assert.False(limits.IsUnlimited);
    }

    [Fact]
    public void ForRoute_BadValues_EveryErrorReported()
    {
        var errors = new List<string>();
        JobLimitRules.ForRoute(Route((RateLimitNames.RequestsPerSecondMetadata, "NaN"), (RateLimitNames.BurstMetadata, "-1"), (RateLimitNames.ConcurrentMetadata, "many")), JobLimits.None, errors);
        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.StartsWith("route 'r': Metadata.", e, StringComparison.Ordinal));
    }
}

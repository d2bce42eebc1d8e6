using System.Diagnostics.CodeAnalysis;
using BenchmarkDotNet.Attributes;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Forwarding;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace RequestsProxy.Tokens.Benchmarks;

/// <summary>
/// The proxy's per-request path work on a relayed request, with the chart's shape of routes (two
/// bound routes and a catch-all): the reserved-path check, the canonical-path check (A4) and the
/// <c>sub</c> binding of every bound pattern, on a plain path of the caller's own job.
/// </summary>
[MemoryDiagnoser]
public class PathCheckBenchmarks
{
    private const string Path = "/v1/jobs/training-job-0123456789/results";

    private SubjectBindings _bindings = null!;
    private CallerIdentity _caller = null!;
    private RouteConfig _results = null!;

    [GlobalSetup]
    public void Setup()
    {
        _results = Route("results", "/v1/jobs/{sub}/results", "sub");
        var routes = new[] { _results, Route("flops", "/v1/jobs/{sub}/flops", "sub"), Route("catch-all", "/{**catch-all}", null) };
        _bindings = new SubjectBindings(new Lookup(routes));
        _caller = new CallerIdentity("training-job-0123456789", "jti", ["results:write", "flops:write"]);
        _ = _bindings.Patterns;
    }

    [Benchmark]
    public bool PlainPath()
    {
        var reserved = ReservedPaths.IsReserved(Path);
        var canonical = CanonicalPath.Matches(Path, Path);
        var verdict = _bindings.Check(Path, "POST", _caller, _results, out _, out _, out _);
        return !reserved && canonical && verdict == PathVerdict.Allowed;
    }

    private static RouteConfig Route(string id, string path, string? subject) => new()
    {
        RouteId = id,
        ClusterId = "edge",
        Match = new RouteMatch { Path = path },
        Metadata = subject is null
            ? new Dictionary<string, string> { ["RequiredScope"] = "" }
            : new Dictionary<string, string> { ["RequiredScope"] = id + ":write", ["SubjectParameter"] = subject },
    };

    private sealed class Lookup(RouteConfig[] routes) : IProxyStateLookup
    {
        private readonly RouteModel[] _models = [.. routes.Select(r => new RouteModel(r, null, HttpTransformer.Empty))];

        public IEnumerable<RouteModel> GetRoutes() => _models;

        public bool TryGetRoute(string id, [NotNullWhen(true)] out RouteModel? route)
        {
            route = _models.FirstOrDefault(m => m.Config.RouteId == id);
            return route is not null;
        }

        public IEnumerable<ClusterState> GetClusters() => [];

        public bool TryGetCluster(string id, [NotNullWhen(true)] out ClusterState? cluster)
        {
            cluster = null;
            return false;
        }
    }
}

using System.Text.Json.Nodes;

namespace RequestsProxy.Chart.Tests;

/// <summary>Routes become YARP configuration with our metadata; the upstream credential is a mounted file.</summary>
public sealed class RoutesTests : IDisposable
{
    private const string Proxy = "rel-requests-proxy";

    private const string TwoRoutes = """
        requestsProxy:
          upstream:
            url: https://edge.example
            credential:
              existingSecret: edge-credential
              key: token
          routes:
            - name: results
              path: /v1/jobs/{sub}/results
              methods: [POST]
              requiredScope: results:write
              subjectParameter: sub
            - name: flops
              path: /v1/flops
              requiredScope: flops:write
              upstream: http://flops.example:9000
              upstreamCredential: false
            - name: events
              path: /v1/jobs/{sub}/events
              methods: [GET]
              requiredScope: events:read
              subjectParameter: sub
              allowUpgrade: true
        """;

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_Routes_RenderedAsReverseProxyJsonWithMetadata()
    {
        var chart = await _helm.TemplateAsync(valuesYaml: TwoRoutes);

        var json = JsonNode.Parse(chart.Get("ConfigMap", "rel-requests-proxy-routes").Str("data", "routes.json")!)!;
        var routes = json["ReverseProxy"]!["Routes"]!;
        var results = routes["results"]!;
        Assert.Equal("/v1/jobs/{sub}/results", results.Str("Match", "Path"));
        Assert.Equal(["POST"], results["Match"]!["Methods"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("results:write", results.Str("Metadata", "RequiredScope"));
        Assert.Equal("sub", results.Str("Metadata", "SubjectParameter"));
        Assert.Equal("/etc/proxy/upstream/credential", results.Str("Metadata", "UpstreamCredentialFile"));
        Assert.Equal("https://edge.example", json["ReverseProxy"]!["Clusters"]![results.Str("ClusterId")!]!.Str("Destinations", "default", "Address"));

        var flops = routes["flops"]!;
        Assert.Equal("flops:write", flops.Str("Metadata", "RequiredScope"));
        Assert.Null(flops["Metadata"]!["SubjectParameter"]);
        Assert.Null(flops["Metadata"]!["UpstreamCredentialFile"]);
        Assert.Equal("http://flops.example:9000", json["ReverseProxy"]!["Clusters"]![flops.Str("ClusterId")!]!.Str("Destinations", "default", "Address"));

        // Upgrades only where a route opts in (the proxy reads the metadata; absent is false).
        Assert.Equal("true", routes["events"]!.Str("Metadata", "AllowUpgrade"));
        Assert.Null(results["Metadata"]!["AllowUpgrade"]);
        Assert.Null(flops["Metadata"]!["AllowUpgrade"]);
    }

    [Fact]
    public async Task Template_AllowUpgradeNotABoolean_RefusedBySchema()
    {
        var result = await _helm.TemplateRawAsync(valuesYaml: """
            requestsProxy:
              upstream:
                url: https://edge.example
              routes:
                - name: events
                  path: /v1/events
                  requiredScope: events:read
                  allowUpgrade: "yes"
            """);

        Assert.False(result.Succeeded);
        Assert.Contains("allowUpgrade", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_Routes_MountedAndNamedInEnv()
    {
        var chart = await _helm.TemplateAsync(valuesYaml: TwoRoutes);

        var mounts = chart.Mounts(Proxy);
        Assert.Equal(("configMap", "rel-requests-proxy-routes"), mounts["/etc/proxy/routes/"]);
        Assert.Equal(("secret", "edge-credential"), mounts["/etc/proxy/upstream/"]);
        var env = chart.Env(Proxy);
        Assert.Equal("/etc/proxy/routes/routes.json", env["REQUESTS_PROXY_ROUTES_FILE"]);
        Assert.False(env.ContainsKey("REQUESTS_PROXY_UPSTREAM"));
        var volume = chart.PodSpec(Proxy)["volumes"]!.AsArray().Single(v => v!.Str("name") == "upstream-credential")!;
        var item = Assert.Single(volume["secret"]!["items"]!.AsArray());
        Assert.Equal("token", item!.Str("key"));
        Assert.Equal("credential", item.Str("path"));
        Assert.NotNull(chart.Get("Deployment", Proxy)["spec"]!["template"]!["metadata"]!["annotations"]!["checksum/routes"]);
    }

    [Fact]
    public async Task Template_NoRoutes_CatchAllUpstreamAndCredentialFromValue()
    {
        var chart = await _helm.TemplateAsync(["requestsProxy.upstream.url=https://edge.example", "requestsProxy.upstream.credential.value=s3cret"]);

        var env = chart.Env(Proxy);
        Assert.Equal("https://edge.example", env["REQUESTS_PROXY_UPSTREAM"]);
        Assert.Equal("/etc/proxy/upstream/credential", env["REQUESTS_PROXY_UPSTREAM_CREDENTIAL_FILE"]);
        Assert.False(env.ContainsKey("REQUESTS_PROXY_ROUTES_FILE"));
        Assert.Null(chart.Find("ConfigMap", "rel-requests-proxy-routes"));
        var credential = chart.Get("Secret", "rel-requests-proxy-upstream");
        Assert.Equal(Convert.ToBase64String("s3cret"u8.ToArray()), credential.Str("data", "credential"));
        Assert.Equal(("secret", "rel-requests-proxy-upstream"), chart.Mounts(Proxy)["/etc/proxy/upstream/"]);
    }
}

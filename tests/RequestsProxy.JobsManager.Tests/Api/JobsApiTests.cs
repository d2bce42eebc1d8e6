using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Api;

/// <summary>The admin API over real HTTP (Kestrel on 127.0.0.1, port 0) with the Local runtime.</summary>
public sealed class JobsApiTests
{
    private const string LongRunning = "while true; do sleep 0.1; done";

    [Fact]
    public async Task Jobs_NoBearer_401WithChallengeAndJsonError()
    {
        await using var host = await ApiHost.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };

        using var response = await anonymous.GetAsync("/v1/jobs");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("unauthorized", (await Error(response)).Error);
    }

    [Fact]
    public async Task Jobs_WrongBearer_401InvalidToken()
    {
        await using var host = await ApiHost.StartAsync();
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", ApiHost.AdminToken + "x");

        using var response = await client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/true" } });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_token", (await Error(response)).Error);
        Assert.Empty(host.App.Services.GetRequiredService<JobManager>().List());
    }

    [Theory]
    [InlineData("{", "invalid_json")]
    [InlineData("[]", "invalid_json")]
    [InlineData("{\"name\":\"job-1\",\"command\":[\"/bin/true\"],\"imag\":\"x\"}", "invalid_json")]
    [InlineData("{\"name\":\"Job_1\",\"command\":[\"/bin/true\"]}", "invalid_request")]
    [InlineData("{\"command\":[\"/bin/true\"]}", "invalid_request")]
    [InlineData("{\"name\":\"job-1\"}", "invalid_request")]
    [InlineData("{\"name\":\"job-1\",\"command\":[\"/bin/true\"],\"env\":{\"REQUESTS_PROXY_TOKEN_FILE\":\"/etc/passwd\"}}", "invalid_request")]
    [InlineData("{\"name\":\"job-1\",\"command\":[\"/bin/true\"],\"scope\":\"  \"}", "invalid_request")]
    [InlineData("{\"name\":\"job-1\",\"command\":\"/bin/true\"}", "invalid_json")]
    [InlineData("{\"name\":\"job-x\",\"name\":\"job-y\",\"command\":[\"/bin/true\"]}", "invalid_json")]
    [InlineData("{\"name\":\"job-1\",\"command\":[\"/bin/true\"],\"env\":{\"A\":\"1\",\"A\":\"2\"}}", "invalid_json")]
    public async Task Start_BadRequest_400WithJsonError(string body, string error)
    {
        await using var host = await ApiHost.StartAsync();

        using var response = await host.Client.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var parsed = await Error(response);
        Assert.Equal(error, parsed.Error);
        Assert.False(string.IsNullOrWhiteSpace(parsed.Message));
    }

    [Theory]
    [InlineData("{\"name\":\"job-x\",\"name\":\"job-y\",\"command\":[\"/bin/true\"]}", "the field 'name' is given twice")]
    [InlineData("{\"name\":\"job-1\",\"command\":[\"/bin/true\"],\"env\":{\"A\":\"1\",\"A\":\"2\"}}", "the field 'A' is given twice (at $.env")]
    [InlineData("{\"name\":\"job-1\",\"command\":[\"/bin/true\"],\"imag\":\"x\"}", "'imag' is not a field of a start request")]
    [InlineData("{\"name\":\"job-1\",\"command\":\"/bin/true\"}", "a field has the wrong type (at $.command")]
    [InlineData("{", "the body is not a valid start request")]
    public async Task Start_BadJson_MessageNamesTheFieldNotADotNetType(string body, string expected)
    {
        await using var host = await ApiHost.StartAsync();

        using var response = await host.Client.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));

        var (error, message) = await Error(response);
        Assert.Equal("invalid_json", error);
        Assert.True(message.Contains(expected, StringComparison.Ordinal), message);
        Assert.DoesNotContain("RequestsProxy.", message, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Bad_Name")]
    [InlineData("..%2F..%2Fkeys")]
    [InlineData("-job")]
    public async Task Stop_NotAJobName_400AndNothingReachesTheRuntime(string name)
    {
        await using var host = await ApiHost.StartAsync();

        using var response = await host.Client.DeleteAsync("/v1/jobs/" + name);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await Error(response)).Error);
    }

    [Fact]
    public async Task Start_NotJson_415()
    {
        await using var host = await ApiHost.StartAsync();

        using var response = await host.Client.PostAsync("/v1/jobs", new StringContent("name=job-1", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task StartListStop_LocalJob_FullLifecycle()
    {
        await using var host = await ApiHost.StartAsync();

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new
        {
            name = "job-1",
            command = new[] { "/bin/sh", "-c" },
            args = new[] { LongRunning },
            scope = "results:write",
            env = new Dictionary<string, string> { ["EPOCHS"] = "3" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/v1/jobs/job-1", created.Headers.Location!.ToString());
        var job = (await created.Content.ReadFromJsonAsync<JsonElement>());
        Assert.Equal("job-1", job.GetProperty("name").GetString());
        Assert.Equal("running", job.GetProperty("state").GetString());
        Assert.Equal("results:write", job.GetProperty("scope").GetString());
        Assert.Equal("v1", job.GetProperty("token").GetProperty("kid").GetString());
        var jti = job.GetProperty("token").GetProperty("jti").GetString()!;
        Assert.True(job.GetProperty("token").GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(59));
        var tokenFile = job.GetProperty("tokenFile").GetString()!;
        Assert.True(File.Exists(tokenFile));
        Assert.DoesNotContain(File.ReadAllText(tokenFile), await created.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var duplicate = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/true" } });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal("conflict", (await Error(duplicate)).Error);

        var list = await host.Client.GetFromJsonAsync<JsonElement>("/v1/jobs");
        var listed = Assert.Single(list.GetProperty("jobs").EnumerateArray());
        Assert.Equal(jti, listed.GetProperty("token").GetProperty("jti").GetString());

        using var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        var stop = await stopped.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(stop.GetProperty("known").GetBoolean());
        Assert.Equal(1, stop.GetProperty("revoked").GetInt32());
        Assert.Contains(jti, RevocationFile.Read(Path.Combine(host.Options.RevokedDirectory, "revoked.json")).Entries.Select(e => e.Jti));

        // Idempotent: the same 200, now for a job nobody knows.
        using var again = await host.Client.DeleteAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.False((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("known").GetBoolean());

        using var gone = await host.Client.GetAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task KeysUsage_AfterStart_LiveTokensPerKid()
    {
        await using var host = await ApiHost.StartAsync();
        using var _ = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", LongRunning } });
        var v2 = host.Keys.AddKey();

        // The ring is polled every 10 s; make the new kid visible now.
        host.App.Services.GetRequiredService<RequestsProxy.Tokens.Keys.KeyRingSource>().Reload();
        var usage = await host.Client.GetFromJsonAsync<JsonElement>("/v1/keys/usage");

        Assert.Equal("v1", usage.GetProperty("activeKid").GetString());
        // The settings a retirement is judged by: rpctl asks for them instead of assuming the 90-day default.
        Assert.Equal((long)host.Options.TokenLifetime.TotalSeconds, usage.GetProperty("tokenTtlSeconds").GetInt64());
        Assert.Equal((long)host.Options.Leeway.TotalSeconds, usage.GetProperty("leewaySeconds").GetInt64());
        var keys = usage.GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("kid").GetString()!);
        Assert.Equal(1, keys["v1"].GetProperty("liveTokens").GetInt32());
        Assert.False(keys["v1"].GetProperty("safeToRetire").GetBoolean());
        Assert.Equal(0, keys[v2].GetProperty("liveTokens").GetInt32());
        Assert.True(keys[v2].GetProperty("safeToRetire").GetBoolean());
        Assert.Equal((0, 0), (keys["v1"].GetProperty("revokedTokens").GetInt32(), keys["v1"].GetProperty("unreachableTokens").GetInt32()));

        // Stopped: revoked and forgotten, so v1 is free.
        await host.Client.DeleteAsync("/v1/jobs/job-1");
        usage = await host.Client.GetFromJsonAsync<JsonElement>("/v1/keys/usage");
        keys = usage.GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("kid").GetString()!);
        Assert.Equal(0, keys["v1"].GetProperty("liveTokens").GetInt32());
    }

    [Fact]
    public async Task Health_ReadyAndMetrics_Served()
    {
        await using var host = await ApiHost.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
        using var _ = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/true" } });
        await host.Client.DeleteAsync("/v1/jobs/job-1");

        var metrics = await anonymous.GetStringAsync("/metrics");
        Assert.Contains("jobs_manager_revocation_list_size_bytes", metrics, StringComparison.Ordinal);
        Assert.Contains("jobs_manager_jobs_started", metrics, StringComparison.Ordinal);
        Assert.Contains("jobs_manager_tokens_issued", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_NoKeyRing_503AndStartRefused()
    {
        await using var host = await ApiHost.StartAsync(withKeys: false);

        using var ready = await host.Client.GetAsync("/readyz");
        using var start = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/true" } });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, start.StatusCode);
        Assert.Equal("not_ready", (await Error(start)).Error);
    }

    [Fact]
    public async Task Start_LocalJobFromAJobManifest_RunsItsContainersCommandArgsAndEnv()
    {
        await using var host = await ApiHost.StartAsync();
        var manifest = new
        {
            apiVersion = "batch/v1",
            kind = "Job",
            metadata = new { name = "from-manifest" },
            spec = new
            {
                template = new
                {
                    spec = new
                    {
                        containers = new[]
                        {
                            new
                            {
                                name = "trainer",
                                image = "ddp:3",
                                command = new[] { "/bin/sh", "-c" },
                                args = new[] { "echo \"$EPOCHS $REQUESTS_PROXY_TOKEN_FILE\" > env.txt; " + LongRunning },
                                env = new[] { new { name = "EPOCHS", value = "7" } },
                                resources = new { limits = new Dictionary<string, string> { ["example.com/gpu"] = "1" } },
                            },
                        },
                    },
                },
            },
        };

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { job = manifest });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var job = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("from-manifest", "ddp:3"), (job.GetProperty("name").GetString(), job.GetProperty("image").GetString()));
        var tokenFile = job.GetProperty("tokenFile").GetString()!;
        var envFile = Path.Combine(Path.GetDirectoryName(tokenFile)!, "env.txt");
        await Eventually.TrueAsync(() => File.Exists(envFile) && File.ReadAllText(envFile).Contains('\n'), "the job wrote its environment");
        Assert.Equal($"7 {tokenFile}\n", File.ReadAllText(envFile));
        using var stopped = await host.Client.DeleteAsync("/v1/jobs/from-manifest");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
    }

    [Theory]
    [InlineData("""{"name":"t","template":{"spec":{"containers":[{"name":"c","image":"i","command":["/bin/true"],"securityContext":{"privileged":true}}]}}}""",
        "'template.spec.containers[0].securityContext.privileged' must not be true")]
    [InlineData("""{"name":"t","template":{"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"i","command":["/bin/true"]}]}}}""",
        "'template.spec.hostNetwork' must not be true")]
    [InlineData("""{"name":"t","template":{"spec":{"containers":[{"name":"a","image":"i","command":["/bin/true"]},{"name":"b","image":"i"}]}}}""",
        "the local runtime runs one process: the template has 2 containers")]
    [InlineData("""{"name":"t","template":{"spec":{"containers":[{"name":"a","image":"i","command":["/bin/true"],"env":[{"name":"X","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]}]}}}""",
        "the local runtime cannot resolve 'env[0].valueFrom' (X)")]
    [InlineData("""{"name":"t","parallelism":2,"template":{"spec":{"containers":[{"name":"a","image":"i","command":["/bin/true"]}]}}}""",
        "'parallelism' and 'completions' must be 1")]
    public async Task Start_TemplateRefused_400NamingTheField(string body, string message)
    {
        await using var host = await ApiHost.StartAsync();

        using var response = await host.Client.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await Error(response)).Message, StringComparison.Ordinal);
        Assert.Empty(host.App.Services.GetRequiredService<JobManager>().List());
    }

    private static async Task<(string Error, string Message)> Error(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("error").GetString()!, body.GetProperty("message").GetString()!);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Sdk;

namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>The jobs-manager's admin API, reached from this host through its Service's ClusterIP.</summary>
public sealed class JobsManagerApi : IDisposable
{
    private readonly HttpClient _http;

    private JobsManagerApi(Uri baseAddress, string adminToken)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
    }

    /// <summary>Connects once the API answers through its Service (endpoints and kube-proxy rules lag a Ready pod).</summary>
    public static async Task<JobsManagerApi> ConnectAsync(ChartRelease release)
    {
        var api = new JobsManagerApi(await release.ServiceUrlAsync(release.JobsManagerName), await release.AdminTokenAsync());
        try
        {
            await Wait.UntilAsync($"the jobs-manager API of {release.Namespace} answering through its Service", TimeSpan.FromMinutes(2), async () =>
            {
                using var response = await api._http.GetAsync("/v1/jobs");
                return response.IsSuccessStatusCode;
            });
            return api;
        }
        catch
        {
            api.Dispose();
            throw;
        }
    }

    /// <summary>Starts a trainer job (the workload image's client loop) and returns the API's answer.</summary>
    public async Task<JsonNode> StartTrainerAsync(string job, string image, int seconds = 3600)
    {
        var (status, text) = await TryStartTrainerAsync(job, image, seconds);
        if (status != HttpStatusCode.Created)
        {
            throw new XunitException($"POST /v1/jobs {job}: {(int)status} {text}");
        }

        return JsonNode.Parse(text)!;
    }

    /// <summary>Starts a trainer job and returns the status and body, whatever they are.</summary>
    public async Task<(HttpStatusCode Status, string Body)> TryStartTrainerAsync(string job, string image, int seconds = 3600)
    {
        var body = new
        {
            name = job,
            image,
            args = new[] { "trainer" },
            env = new Dictionary<string, string> { ["TRAINER_JOB"] = job, ["TRAINER_SECONDS"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        using var response = await _http.PostAsJsonAsync("/v1/jobs", body);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Posts any start request (e.g. with a <c>template</c>) and returns the API's answer; anything but 201 fails the test.</summary>
    public async Task<JsonNode> StartAsync(JsonObject body)
    {
        using var content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync("/v1/jobs", content);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new XunitException($"POST /v1/jobs {body["name"]}: {(int)response.StatusCode} {text}");
        }

        return JsonNode.Parse(text)!;
    }

    public async Task<JsonNode> StopAsync(string job)
    {
        using var response = await _http.DeleteAsync($"/v1/jobs/{job}");
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new XunitException($"DELETE /v1/jobs/{job}: {(int)response.StatusCode} {text}");
        }

        return JsonNode.Parse(text)!;
    }

    public async Task<JsonNode?> GetAsync(string job)
    {
        using var response = await _http.GetAsync($"/v1/jobs/{job}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : JsonNode.Parse(await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonArray> ListAsync()
    {
        var list = await _http.GetFromJsonAsync<JsonNode>("/v1/jobs", JsonSerializerOptions.Web);
        return list!["jobs"]!.AsArray();
    }

    public void Dispose() => _http.Dispose();
}

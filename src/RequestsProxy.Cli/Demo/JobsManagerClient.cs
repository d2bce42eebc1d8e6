using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace RequestsProxy.Cli.Demo;

/// <summary>The few jobs-manager API calls the demo makes, with the admin bearer token.</summary>
internal sealed class JobsManagerClient(HttpClient http, Uri baseUrl, string adminToken)
{
    public async Task StartAsync(string name, IReadOnlyList<string> command, IReadOnlyDictionary<string, string> env, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["name"] = name,
            ["command"] = new JsonArray([.. command.Select(c => (JsonNode)c!)]),
            ["env"] = new JsonObject(env.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value))),
        };
        using var response = await SendAsync(HttpMethod.Post, "/v1/jobs", body, cancellationToken);
    }

    public async Task StopAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, $"/v1/jobs/{Uri.EscapeDataString(name)}", null, cancellationToken);
    }

    /// <summary>The kid of every live job's current token.</summary>
    public async Task<IReadOnlyDictionary<string, string?>> TokenKidsAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/jobs", null, cancellationToken);
        var json = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var job in json?["jobs"]?.AsArray() ?? [])
        {
            if (job?["state"]?.GetValue<string>() is "running" or "pending")
            {
                result[job["name"]!.GetValue<string>()] = job["token"]?["kid"]?.GetValue<string>();
            }
        }

        return result;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(baseUrl, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            response.Dispose();
            throw new CliException($"jobs-manager answered {(int)response.StatusCode} to {method} {path}: {text}", ExitCodes.Refused);
        }

        return response;
    }
}

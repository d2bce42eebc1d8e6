using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using RequestsProxy.Server.Forwarding;

namespace RequestsProxy.Tokens.Benchmarks;

/// <summary>
/// The per-request cost of removing proxy-asserted headers (A9) from a request as the clients send
/// it (eight headers, none of them proxy-asserted), and from one that carries three.
/// </summary>
[MemoryDiagnoser]
public class RelayHeadersBenchmarks
{
    private static readonly (string Name, string Value)[] Client =
    [
        ("Host", "rp-requests-proxy.ml:8888"), ("Authorization", "Bearer x.y.z"), ("Content-Type", "application/json"),
        ("Content-Length", "64"), ("Idempotency-Key", "job-1/epoch-7"), ("User-Agent", "requests-proxy-client/0.1"),
        ("Accept", "*/*"), ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ];

    private static readonly (string Name, string Value)[] Hostile =
        [.. Client, ("X-Forwarded-Host", "evil"), ("X-Real-IP", "10.6.6.6"), ("X_Requests_Proxy_Subject", "job-2")];

    private HeaderDictionary _client = null!;

    // Nothing to remove from the clients' headers: the same dictionary serves every call.
    [GlobalSetup]
    public void Setup() => _client = Fill(Client);

    [Benchmark]
    public void ClientHeaders() => ProxyAssertedHeaders.RemoveFrom(_client);

    /// <summary>Removing mutates the dictionary: each call fills a new one, <see cref="FillHostile"/> is that part alone.</summary>
    [Benchmark]
    public int HostileHeaders()
    {
        var headers = Fill(Hostile);
        ProxyAssertedHeaders.RemoveFrom(headers);
        return headers.Count;
    }

    [Benchmark]
    public int FillHostile() => Fill(Hostile).Count;

    [Benchmark]
    public bool FoldOneName() => ProxyAssertedHeaders.IsProxyAsserted("Idempotency-Key");

    private static HeaderDictionary Fill((string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary[name] = value;
        }

        return dictionary;
    }
}

using System.Diagnostics;
using System.Net;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// One training job posting results in a loop, like the real client: it reads its current token
/// before each request and retries connection errors. Every answer is counted by kind. With a
/// token file (a job the jobs-manager started) it reads the file before each request, as DESIGN §6 asks.
/// </summary>
internal sealed class JobClient(string subject, Uri proxy, string token, string? tokenFile = null)
{
    private readonly List<string> _refusals = [];
    private string _token = token;
    private long _revokedAt = -1;

    public string Subject { get; } = subject;

    public string Token
    {
        get => tokenFile is null ? Volatile.Read(ref _token) : ReadTokenFile();
        set => Volatile.Write(ref _token, value);
    }

    /// <summary>Accepted requests by the kind of token they carried: "jwt" or "opaque".</summary>
    public int AcceptedJwt;
    public int AcceptedOpaque;

    public int Accepted;
    public int ConnectionErrors;
    public int Unavailable;
    public int Other;

    /// <summary>401s while the job's tokens were all valid: must stay 0.</summary>
    public int RefusedValid;

    /// <summary>401s after the job was revoked (expected).</summary>
    public int RefusedAfterRevocation;

    /// <summary>Time from <see cref="MarkRevoked"/> to the first 401, or null.</summary>
    public TimeSpan? RevocationLatency { get; private set; }

    public IReadOnlyList<string> Refusals
    {
        get
        {
            lock (_refusals)
            {
                return [.. _refusals];
            }
        }
    }

    /// <summary>Called right before the job's jtis are written to the revocation list.</summary>
    public void MarkRevoked() => Interlocked.Exchange(ref _revokedAt, Stopwatch.GetTimestamp());

    public async Task RunAsync(CancellationToken stop)
    {
        using var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1), PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) };
        using var client = new HttpClient(handler) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(5) };
        var sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/jobs/{Subject}/results")
            {
                Content = new StringContent($"{{\"epoch\":{sequence++}}}", System.Text.Encoding.UTF8, "application/json"),
            };
            var token = Token;
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            var revokedAt = Interlocked.Read(ref _revokedAt);
            try
            {
                using var response = await client.SendAsync(request, stop);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        Interlocked.Increment(ref Accepted);
                        if (token.Count(c => c == '.') == 2)
                        {
                            Interlocked.Increment(ref AcceptedJwt);
                        }
                        else
                        {
                            Interlocked.Increment(ref AcceptedOpaque);
                        }

                        break;
                    case HttpStatusCode.Unauthorized when revokedAt >= 0:
                        Interlocked.Increment(ref RefusedAfterRevocation);
                        RevocationLatency ??= Stopwatch.GetElapsedTime(revokedAt);
                        break;
                    case HttpStatusCode.Unauthorized:
                        Interlocked.Increment(ref RefusedValid);
                        lock (_refusals)
                        {
                            _refusals.Add($"{(token.Count(c => c == '.') == 2 ? "jwt" : "opaque")}: {response.Headers.WwwAuthenticate}");
                        }

                        break;
                    case HttpStatusCode.ServiceUnavailable:
                        Interlocked.Increment(ref Unavailable);
                        await Task.Delay(20, CancellationToken.None);
                        break;
                    default:
                        Interlocked.Increment(ref Other);
                        break;
                }
            }
            catch (HttpRequestException)
            {
                // The proxy is down (killed): a real client retries, and so do we, counted apart.
                Interlocked.Increment(ref ConnectionErrors);
                await Task.Delay(20, CancellationToken.None);
            }
            catch (TaskCanceledException) when (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref ConnectionErrors);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }

            // A few hundred requests a second across clients: enough load, and room on 2 cores.
            await Task.Delay(5, CancellationToken.None);
        }
    }

    private string ReadTokenFile()
    {
        // The jobs-manager replaces the file atomically: a read sees the old token or the new one.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return File.ReadAllText(tokenFile!).Trim();
            }
            catch (IOException) when (attempt < 20)
            {
                Thread.Sleep(10);
            }
        }
    }
}

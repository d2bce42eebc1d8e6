using System.Net;
using System.Net.Sockets;

namespace RequestsProxy.Demo;

/// <summary>
/// The proxy Service of <c>rpctl demo --cutover</c>: one address on 127.0.0.1 in front of the proxy
/// replicas, forwarding each TCP connection to the next ready replica in turn (as kube-proxy does
/// for a ClusterIP). A replica taken out of rotation keeps the connections it has until it exits,
/// like a pod being terminated; a client on one then sees a connection error and reconnects.
/// </summary>
internal sealed class ServiceFront : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly Task _accepting;
    private List<IPEndPoint> _backends = [];
    private int _next;

    private ServiceFront(TcpListener listener)
    {
        _listener = listener;
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    public Uri Url { get; }

    public static ServiceFront Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new ServiceFront(listener);
    }

    /// <summary>The replicas new connections go to (their endpoints become ready, or are removed from them).</summary>
    public void SetBackends(IEnumerable<Uri> replicas)
    {
        var backends = replicas.Select(u => new IPEndPoint(IPAddress.Loopback, u.Port)).ToList();
        lock (_lock)
        {
            _backends = backends;
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        using (client)
        {
            List<IPEndPoint> backends;
            int first;
            lock (_lock)
            {
                backends = _backends;
                first = _next++;
            }

            // Round robin; a replica that refuses the connection (it just died) is skipped, as a not-ready endpoint would be.
            for (var i = 0; i < backends.Count; i++)
            {
                using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await upstream.ConnectAsync(backends[(first + i) % backends.Count], _stop.Token);
                }
                catch (SocketException)
                {
                    continue;
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                await using var a = new NetworkStream(client, ownsSocket: false);
                await using var b = new NetworkStream(upstream, ownsSocket: false);
                using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                var up = Pump(a, b, done.Token);
                var down = Pump(b, a, done.Token);
                await Task.WhenAny(up, down);

                // Either side closed: close both, so the client sees the replica's exit as a broken connection.
                await done.CancelAsync();
                client.Close();
                upstream.Close();
                await Task.WhenAll(up, down);
                return;
            }
        }
    }

    private static async Task Pump(Stream from, Stream to, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, cancellationToken);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}

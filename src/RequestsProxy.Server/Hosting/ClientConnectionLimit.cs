using System.Net;
using Microsoft.AspNetCore.Connections;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// At most N open pod-facing connections per client IP address. Kestrel's own cap
/// (<c>REQUESTS_PROXY_MAX_CONNECTIONS</c>) is per listening address: without this, one hostile pod
/// holding that many idle connections locks every other job out of the replica. A training pod
/// reaches the proxy from its own pod IP (a ClusterIP Service keeps the source address), so the
/// address is the pod; behind anything that funnels clients through one address (a service-mesh
/// sidecar, a NAT) leave it off. A connection over the cap is closed at once, without an answer,
/// like one over Kestrel's cap.
/// </summary>
internal sealed class ClientConnectionLimit(int perClient)
{
    private readonly Dictionary<IPAddress, int> _open = [];

    public int PerClient { get; } = perClient;

    public ConnectionDelegate Middleware(ConnectionDelegate next) => async connection =>
    {
        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (address is null)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        if (!TryOpen(address))
        {
            return;
        }

        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Close(address);
        }
    };

    /// <summary>Connections of this address counted open now (tests).</summary>
    public int OpenFrom(IPAddress address)
    {
        lock (_open)
        {
            return _open.GetValueOrDefault(address);
        }
    }

    private bool TryOpen(IPAddress address)
    {
        // Connection set-up only, not per request: a lock is cheaper than getting a lock-free count right.
        lock (_open)
        {
            var open = _open.GetValueOrDefault(address);
            if (open >= PerClient)
            {
                return false;
            }

            _open[address] = open + 1;
            return true;
        }
    }

    private void Close(IPAddress address)
    {
        lock (_open)
        {
            if (_open.TryGetValue(address, out var open) && open > 1)
            {
                _open[address] = open - 1;
            }
            else
            {
                _open.Remove(address);
            }
        }
    }
}

namespace RequestsProxy.Server.Hosting;

/// <summary>Set on every connection accepted on a management address (a connection feature, visible to each request on it).</summary>
internal sealed class ManagementConnection
{
    public static readonly ManagementConnection Instance = new();
}

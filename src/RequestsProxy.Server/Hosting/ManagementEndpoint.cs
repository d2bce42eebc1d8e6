namespace RequestsProxy.Server.Hosting;

/// <summary>Endpoint metadata: served on the management port only (<see cref="PortGate"/>).</summary>
internal sealed class ManagementEndpoint
{
    public static readonly ManagementEndpoint Instance = new();
}

namespace RequestsProxy.Server.Hosting;

/// <summary>Endpoint metadata: served on the admission webhook's port only (<see cref="PortGate"/>).</summary>
internal sealed class AdmissionEndpoint
{
    public static readonly AdmissionEndpoint Instance = new();
}

namespace RequestsProxy.Server.Hosting;

/// <summary>Set on every connection accepted on an admission webhook address (https, called by the apiserver).</summary>
internal sealed class AdmissionConnection
{
    public static readonly AdmissionConnection Instance = new();
}

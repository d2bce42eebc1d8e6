using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Admission;

/// <summary>
/// The admission port's own per-client connection cap (<see cref="ProxySettings.AdmissionMaxConnectionsPerClient"/>),
/// counted apart from the pod-facing port's: a training pod's connections never use up the apiserver's.
/// </summary>
internal sealed record AdmissionConnectionLimit(ClientConnectionLimit Limit);

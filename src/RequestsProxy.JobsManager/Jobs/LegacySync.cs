namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The body of the proxy's legacy <c>POST /admin/v1/sync</c>: every registration still young
/// enough that the mounted legacy list may not have reached every replica yet. The replica
/// registers each one and is then ready (DESIGN §12).
/// </summary>
internal sealed record LegacySync(IReadOnlyList<LegacyRegistration> Registrations);

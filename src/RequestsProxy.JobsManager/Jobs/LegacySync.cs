namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The body of the proxy's legacy <c>POST /admin/v1/sync</c>: every registration still young
/// enough that the mounted legacy list may not have reached every replica yet, and the digests of
/// every list entry that has ended and is still listed (ended within the last grace: a replica's copy
/// may not show the end yet). The replica registers each registration, refuses each forgotten digest,
/// and is then ready (DESIGN §12). <see cref="Forgotten"/> is new in this version: a proxy of an older
/// one ignores it.
/// </summary>
internal sealed record LegacySync(IReadOnlyList<LegacyRegistration> Registrations, IReadOnlyList<string> Forgotten);

namespace RequestsProxy.Cli.Keys;

/// <summary>
/// The store changed between our read and our write (Kubernetes answered 409 to a replace with a
/// stale <c>resourceVersion</c>). <see cref="KeyRingOperations"/> re-reads and re-applies the verb
/// to the fresh ring, so two operators' changes never silently overwrite each other.
/// </summary>
internal sealed class KeyRingConflictException(string message) : Exception(message);

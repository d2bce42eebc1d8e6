namespace RequestsProxy.Server.Forwarding;

/// <summary>What the bound patterns say about a request's path (see <see cref="SubjectBindings"/>).</summary>
internal enum PathVerdict
{
    Allowed,
    SubjectMismatch,
    MissingScope,
    MethodNotAllowed,
}

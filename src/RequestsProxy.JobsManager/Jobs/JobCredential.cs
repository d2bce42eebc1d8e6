namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// A credential handed to one job: a JWT (stateless mode) or an opaque token (legacy mode).
/// <see cref="Token"/> is secret and is never logged; <see cref="ToString"/> leaves it out.
/// </summary>
internal sealed record JobCredential(string Token, IssuedToken Facts)
{
    public override string ToString() => $"JobCredential {{ {Facts} }}";
}

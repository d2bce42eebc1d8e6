using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>A revocation list in memory, for the core's tests.</summary>
internal sealed class InMemoryRevocationStore() : InMemoryDocumentStore<RevocationList>(RevocationListCodec.Instance)
{
    public RevocationList List => Document;
}

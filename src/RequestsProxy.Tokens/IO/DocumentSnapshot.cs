namespace RequestsProxy.Tokens.IO;

/// <summary>A document as stored, and its serialized size (what counts against a store's size limit).</summary>
public sealed record DocumentSnapshot<T>(T Document, long SizeBytes) where T : class;

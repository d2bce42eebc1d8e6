namespace RequestsProxy.Tokens.Jwt;

/// <summary>What steps 2 and 3 of DESIGN §4 need from a header; <see cref="Kid"/> is null when it cannot name a ring key.</summary>
internal sealed record ParsedHeader(string Text, bool AlgorithmIsHs256, string? Kid, byte[] KidUtf8);

namespace RequestsProxy.Server.Legacy;

/// <summary>The answer to a registration (never echoes the token).</summary>
internal sealed record LegacyRegistration(string Sub, string Scope);

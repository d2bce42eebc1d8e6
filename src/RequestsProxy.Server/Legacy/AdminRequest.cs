namespace RequestsProxy.Server.Legacy;

/// <summary>An admin request that passed <see cref="AdminGate"/>: who sent it and its body, read once (the signature covers it).</summary>
internal sealed record AdminRequest(AdminCaller Caller, byte[] Body);

namespace RequestsProxy.Server.Legacy;

internal sealed record LegacyForgetResult(string Sub, int Removed);

namespace RequestsProxy.Tokens;

internal static class Placeholder;

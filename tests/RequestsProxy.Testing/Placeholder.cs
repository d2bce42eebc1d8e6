namespace RequestsProxy.Testing;

internal static class Placeholder;

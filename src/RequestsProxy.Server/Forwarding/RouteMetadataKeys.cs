namespace RequestsProxy.Server.Forwarding;

/// <summary>Our keys in a YARP route's <c>Metadata</c>.</summary>
internal static class RouteMetadataKeys
{
    /// <summary>The scope a token must hold; "" means any valid token. Required on every route.</summary>
    public const string RequiredScope = "RequiredScope";

    /// <summary>A route path parameter that must equal the token's <c>sub</c>.</summary>
    public const string SubjectParameter = "SubjectParameter";

    /// <summary>A mounted file whose content goes upstream as <c>Authorization: Bearer …</c>.</summary>
    public const string UpstreamCredentialFile = "UpstreamCredentialFile";

    /// <summary><c>true</c>: the route relays upgrade requests (WebSocket, as GET only); otherwise they are a 400.</summary>
    public const string AllowUpgrade = "AllowUpgrade";
}

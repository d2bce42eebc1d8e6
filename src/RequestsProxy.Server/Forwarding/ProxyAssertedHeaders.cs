using System.Collections.Frozen;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// Inbound headers an upstream could take as asserted by a proxy in front of it rather than by the
/// client (finding A9 of 2026-12-02): who the client is (its address, its user, its certificate),
/// how it came (scheme, host, port, prefix), which method or path it meant, and our own identity
/// headers. None of them may come from a training pod: every one is removed from the request before
/// YARP copies it, and the proxy sets the few it vouches for itself (<see cref="ProxyTransformProvider"/>,
/// <see cref="UpstreamRequestTransform"/>). The list is in docs/proxy.md ("What goes upstream").
/// <para>
/// Names are compared on their letters and digits alone, lower-cased: servers fold <c>-</c>, <c>_</c>
/// and <c>.</c> (CGI/WSGI/PHP-FPM's <c>HTTP_X_FORWARDED_FOR</c>, nginx's <c>underscores_in_headers</c>
/// and <c>$http_…</c>, Apache turning any non-alphanumeric into <c>_</c>), so every spelling goes.
/// </para>
/// </summary>
internal static class ProxyAssertedHeaders
{
    /// <summary>Whole folded names.</summary>
    internal static readonly FrozenSet<string> Names = FrozenSet.Create(StringComparer.Ordinal,
    [
        // The client's address, as reverse proxies, CDNs and load balancers assert it.
        "forwarded", "xrealip", "xclientip", "clientip", "trueclientip", "cfconnectingip", "cfconnectingipv6",
        "fastlyclientip", "xclusterclientip", "xproxyuserip", "xazureclientip", "xazuresocketip",
        // Scheme and host.
        "xurlscheme", "xscheme", "frontendhttps", "xhost", "cfvisitor",
        // Method and path overrides: the route's methods and the sub binding are judged on the request line.
        "xhttpmethodoverride", "xhttpmethod", "xmethodoverride", "xrewriteurl",
        // Users and certificates asserted by authenticating proxies (Kubernetes' front proxy, oauth2-proxy,
        // Apache/nginx auth modules, Grafana's auth proxy, IIS ARR, Cloudflare Access, Google IAP).
        "remoteuser", "xremoteuser", "xremotegroup", "xauthenticateduser", "xwebauthuser", "xwebauthemail",
        "xclientcert", "xclientverify", "xclientdn", "xarrclientcert", "xsslcert",
        "cfaccessjwtassertion", "cfaccessauthenticateduseremail", "xgoogiapjwtassertion",
        "proxyauthorization",
    ]);

    /// <summary>Folded name prefixes: the whole family goes.</summary>
    internal static readonly string[] Prefixes =
    [
        // Ours: only the proxy sets X-Requests-Proxy-Subject and -Jti.
        "xrequestsproxy",
        // X-Forwarded-For/-Proto/-Host/-Port/-Prefix/-Server/-Ssl/-Path/-Uri/-User/-Email/-Groups/-Access-Token/-Client-Cert …
        "xforwarded",
        // X-Original-URL/-URI/-Path/-Host/-Method/-Forwarded-For (IIS, Symfony, Zend, nginx ingress and auth_request).
        "xoriginal",
        // Envoy trusts x-envoy-* (original path, external address, retry and timeout policy) from internal clients.
        "xenvoy",
        // Kubernetes' authenticating front proxy (X-Remote-Extra-*) and user impersonation (Impersonate-User/-Group/-Uid/-Extra-*).
        "xremoteextra", "impersonate",
        // oauth2-proxy, Azure App Service authentication, AWS ALB OIDC, Google IAP, Apache mod_ssl's SSL_CLIENT_*.
        "xauthrequest", "xmsclientprincipal", "xamznoidc", "xgoogauthenticateduser", "sslclient", "xsslclient",
        // Google App Engine's frontend headers (X-AppEngine-User-IP, -Country, -Https …).
        "xappengine",
    ];

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> ByName = Names.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The longest name worth folding: every name above is shorter, and a longer one is no spelling of them.</summary>
    private const int MaxFolded = 64;

    public static bool IsProxyAsserted(string name)
    {
        Span<char> folded = stackalloc char[MaxFolded];
        var length = 0;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                continue;
            }

            if (length == MaxFolded)
            {
                // Only a prefix can still match.
                break;
            }

            folded[length++] = char.ToLowerInvariant(c);
        }

        var span = folded[..length];
        if (ByName.Contains(span))
        {
            return true;
        }

        foreach (var prefix in Prefixes)
        {
            if (span.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Removes every proxy-asserted header from <paramref name="headers"/> (the pod's request, before YARP copies it).</summary>
    public static void RemoveFrom(IHeaderDictionary headers)
    {
        List<string>? found = null;
        foreach (var header in headers)
        {
            if (IsProxyAsserted(header.Key))
            {
                (found ??= []).Add(header.Key);
            }
        }

        if (found is null)
        {
            return;
        }

        foreach (var name in found)
        {
            headers.Remove(name);
        }
    }
}

using System.Diagnostics.Metrics;
using RequestsProxy.Server.Admission;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Legacy;

namespace RequestsProxy.Server.Metrics;

/// <summary>
/// The proxy's instruments. Tags stay low-cardinality: outcome, reason, route and kid — never
/// a job id or a jti. Sizes and reload counts are observed from the sources at scrape time.
/// </summary>
internal sealed class ProxyMetrics
{
    public const string MeterName = "RequestsProxy.Server";

    private static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _legacyAccepted;
    private readonly Counter<long> _admissionReviews;
    private readonly Counter<long> _relaysCut;

    /// <param name="admissionCertificate">Registered only when the Secret admission webhook is served.</param>
    public ProxyMetrics(IMeterFactory meterFactory, ProxySettings settings, TokenSources sources, LegacyTokenRegistry legacy, WebhookCertificate? admissionCertificate = null)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("requests_proxy.requests", "{request}",
            "Proxied requests by outcome (forwarded, unauthorized, forbidden, rejected, unavailable) and reason.");
        _upstreamDuration = meter.CreateHistogram<double>("requests_proxy.upstream.duration", "s",
            "Time from handing a request to the forwarder until its response was relayed, by route and forwarder error.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

        _relaysCut = meter.CreateCounter<long>("requests_proxy.relays.cut", "{relay}",
            "Relays in flight (upgraded tunnels, slow streams) cut because their token expired or was revoked, or they lasted the maximum request duration, by reason.");

        _legacyAccepted = meter.CreateCounter<long>("requests_proxy.legacy_tokens.accepted", "{request}",
            "Requests authenticated by a legacy opaque token, by source (list: the mounted list; registry: this process's memory). The cutover is over when it stops growing.");

        meter.CreateObservableGauge("requests_proxy.info", () => new Measurement<int>(1,
            new KeyValuePair<string, object?>("mode", settings.Mode),
            new KeyValuePair<string, object?>("release", settings.ReleaseName ?? ""),
            new KeyValuePair<string, object?>("namespace", settings.Namespace ?? "")),
            "{info}", "Always 1; the labels tell the mode, release and namespace.");

        if (sources.Keys is { } keys)
        {
            meter.CreateObservableGauge("requests_proxy.key_ring.ready", () => keys.IsReady ? 1 : 0, "{ring}",
                "1 when a valid key ring is loaded.");
            meter.CreateObservableGauge("requests_proxy.key_ring.keys", () => keys.Current?.Keys.Count ?? 0, "{key}",
                "Keys in the ring in force.");
            meter.CreateObservableGauge("requests_proxy.key_ring.kid", () => ObserveKids(keys.Current), "{key}",
                "1 per kid in the ring in force, labelled with the kid and whether it is the active one.");
            meter.CreateObservableCounter("requests_proxy.key_ring.reloads", () => keys.ReloadCount, "{reload}",
                "Loads that changed the key ring.");
            meter.CreateObservableCounter("requests_proxy.key_ring.reload_failures", () => keys.ReloadFailureCount, "{reload}",
                "Key ring updates refused (the last good ring stayed in force).");
        }

        if (sources.Revocations is { } revocations)
        {
            meter.CreateObservableGauge("requests_proxy.revocations.entries", () => revocations.Current.Count, "{jti}",
                "Revoked jtis in the list in force.");
            meter.CreateObservableGauge("requests_proxy.revocations.ready", () => revocations.IsReady ? 1 : 0, "{list}",
                "1 once a valid revocation list has been read (until then the proxy is not ready).");
            meter.CreateObservableCounter("requests_proxy.revocations.reloads", () => revocations.ReloadCount, "{reload}",
                "Loads that changed the revocation list.");
            meter.CreateObservableCounter("requests_proxy.revocations.reload_failures", () => revocations.ReloadFailureCount, "{reload}",
                "Revocation list updates refused (the last good list stayed in force).");
            meter.CreateObservableGauge("requests_proxy.revocations.files_missing", () => revocations.MissingFileCount, "{file}",
                "Shard files read before that have vanished from the volume (their ConfigMap was deleted): their last good entries stay in force.");
        }

        var listed = sources.LegacyTokens;
        meter.CreateObservableGauge("requests_proxy.legacy_tokens.entries", () => listed.Current.Count, "{token}",
            "Legacy token digests in the mounted list in force.");
        meter.CreateObservableGauge("requests_proxy.legacy_tokens.ready", () => listed.IsReady ? 1 : 0, "{list}",
            "1 once a valid legacy token list has been read (or none existed at start).");
        meter.CreateObservableCounter("requests_proxy.legacy_tokens.reloads", () => listed.ReloadCount, "{reload}",
            "Loads that changed the legacy token list.");
        meter.CreateObservableCounter("requests_proxy.legacy_tokens.reload_failures", () => listed.ReloadFailureCount, "{reload}",
            "Legacy token list updates refused (the last good list stayed in force).");

        _admissionReviews = meter.CreateCounter<long>("requests_proxy.admission.reviews", "{review}",
            "Secret admission reviews answered, by result (allowed, denied, malformed) and rule (or why it was not judged).");
        if (admissionCertificate is { } certificate)
        {
            meter.CreateObservableGauge("requests_proxy.admission.certificate.ready", () => certificate.Current is null ? 0 : 1, "{certificate}",
                "1 when the admission webhook has a serving certificate (0: every handshake fails, so the apiserver applies failurePolicy Fail).");
            meter.CreateObservableGauge("requests_proxy.admission.certificate.expiry", () => certificate.Current is { } c ? new DateTimeOffset(c.NotAfter.ToUniversalTime()).ToUnixTimeSeconds() : 0L, "s",
                "When the serving certificate in force expires (Unix seconds; 0: none loaded).");
            meter.CreateObservableCounter("requests_proxy.admission.certificate.reload_failures", () => certificate.ReloadFailureCount, "{reload}",
                "Reads of the mounted tls.crt/tls.key that did not load (the last good pair stayed in force).");
        }

        if (!settings.Stateless)
        {
            meter.CreateObservableGauge("requests_proxy.legacy.tokens", () => legacy.Count, "{token}",
                "Opaque tokens registered in this process (legacy mode; lost on restart).");
        }
    }

    public void Refused(string outcome, string reason) =>
        _requests.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", reason));

    public void AdmissionReviewed(string result, string rule) =>
        _admissionReviews.Add(1, new KeyValuePair<string, object?>("result", result), new KeyValuePair<string, object?>("rule", rule));

    public void RelayCut(string reason) => _relaysCut.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void LegacyAccepted(string source) => _legacyAccepted.Add(1, new KeyValuePair<string, object?>("source", source));

    public void Forwarded(string route, double seconds, string error)
    {
        _requests.Add(1, new KeyValuePair<string, object?>("outcome", "forwarded"), new KeyValuePair<string, object?>("reason", "ok"));
        _upstreamDuration.Record(seconds, new KeyValuePair<string, object?>("route", route), new KeyValuePair<string, object?>("error", error));
    }

    private static IEnumerable<Measurement<int>> ObserveKids(Tokens.Keys.KeyRing? ring)
    {
        if (ring is null)
        {
            yield break;
        }

        foreach (var kid in ring.Kids)
        {
            yield return new Measurement<int>(1,
                new KeyValuePair<string, object?>("kid", kid),
                new KeyValuePair<string, object?>("active", kid == ring.ActiveKid ? "true" : "false"));
        }
    }
}

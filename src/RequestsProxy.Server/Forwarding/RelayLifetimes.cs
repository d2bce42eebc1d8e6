using System.Collections.Concurrent;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Metrics;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// A relay lives no longer than the token it was authorized with (finding A8 of 2026-12-02): an
/// upgraded connection (a WebSocket tunnel on an <c>AllowUpgrade</c> route) or a slow streaming
/// request or answer kept relaying for hours after its token expired or was revoked. Every relay in
/// flight is judged again once a second — its token through the same authenticator as a new request
/// (expiry with leeway, revocation list, legacy list and registry) — and cut (the pod's connection or
/// HTTP/2 stream aborted, the upstream request with it) when the token is no longer valid, or when
/// the relay has lasted <see cref="ProxySettings.MaxRequestDuration"/>.
/// </summary>
internal sealed class RelayLifetimes : IDisposable
{
    /// <summary>How often relays in flight are judged again: a token's end cuts its relays within this (plus the revocation poll for a revocation).</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<long, Relay> _relays = new();
    private readonly IRequestAuthenticator _authenticator;
    private readonly ProxySettings _settings;
    private readonly TimeProvider _time;
    private readonly ProxyMetrics _metrics;
    private readonly RefusalLogBudget _logBudget;
    private readonly ILogger<RelayLifetimes> _logger;
    private readonly ITimer _timer;
    private long _next;
    private int _sweeping;

    public RelayLifetimes(IRequestAuthenticator authenticator, ProxySettings settings, TimeProvider time, ProxyMetrics metrics,
        RefusalLogBudget logBudget, ILogger<RelayLifetimes> logger)
    {
        _authenticator = authenticator;
        _settings = settings;
        _time = time;
        _metrics = metrics;
        _logBudget = logBudget;
        _logger = logger;
        _timer = time.CreateTimer(_ => Sweep(), null, SweepPeriod, SweepPeriod);
    }

    /// <summary>Relays in flight.</summary>
    public int Count => _relays.Count;

    /// <summary>Tracks a relay until the returned handle is disposed (when the forwarder is done with it).</summary>
    public Handle Track(HttpContext context, AuthorizedRequest authorized)
    {
        var id = Interlocked.Increment(ref _next);
        // The header's own string (no copy): the token is read from it again at each judgement.
        var relay = new Relay(context, context.Request.Headers.Authorization.ToString(), authorized, _time.GetTimestamp());
        _relays[id] = relay;
        return new Handle(this, id, relay);
    }

    /// <summary>Judges every relay in flight; the timer calls it every <see cref="SweepPeriod"/>.</summary>
    internal void Sweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (var (id, relay) in _relays)
            {
                if (Judge(relay) is { } reason && _relays.TryRemove(id, out _))
                {
                    Cut(relay, reason);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    public void Dispose() => _timer.Dispose();

    private string? Judge(Relay relay)
    {
        var age = _time.GetElapsedTime(relay.Started);
        if (_settings.MaxRequestDuration > TimeSpan.Zero && age >= _settings.MaxRequestDuration)
        {
            return AuthReasons.MaxDuration;
        }

        if (age < SweepPeriod || !_authenticator.IsReady)
        {
            // Just authorized; or this replica cannot judge a token now (it would answer 503, not 401): keep.
            return null;
        }

        if (!BearerToken.TryRead(relay.Authorization, out var token))
        {
            return AuthReasons.MissingToken;
        }

        var result = _authenticator.Recheck(token);
        if (result.Caller is { } caller)
        {
            return string.Equals(caller.Subject, relay.Authorized.Caller.Subject, StringComparison.Ordinal) ? null : AuthReasons.SubjectMismatch;
        }

        return result.Reason == AuthReasons.NotReady ? null : result.Reason;
    }

    private void Cut(Relay relay, string reason)
    {
        lock (relay)
        {
            // Kestrel reuses a connection's HttpContext for its next request: never abort one whose relay is over.
            if (relay.Done)
            {
                return;
            }

            relay.Context.Abort();
        }

        _metrics.RelayCut(reason);
        if (_logBudget.MayLog(_logger))
        {
            var authorized = relay.Authorized;
            Log.RelayCut(_logger, reason, authorized.Policy.RouteId, authorized.Caller.Subject, authorized.Caller.Jti, _time.GetElapsedTime(relay.Started).TotalSeconds);
        }
    }

    internal sealed class Relay(HttpContext context, string authorization, AuthorizedRequest authorized, long started)
    {
        public HttpContext Context { get; } = context;

        public string Authorization { get; } = authorization;

        public AuthorizedRequest Authorized { get; } = authorized;

        public long Started { get; } = started;

        /// <summary>Set, under the relay's lock, when the forwarder is done with it.</summary>
        public bool Done { get; set; }
    }

    /// <summary>Ends the tracking of one relay.</summary>
    public readonly struct Handle : IDisposable
    {
        private readonly RelayLifetimes _owner;
        private readonly long _id;
        private readonly Relay _relay;

        internal Handle(RelayLifetimes owner, long id, Relay relay)
        {
            _owner = owner;
            _id = id;
            _relay = relay;
        }

        public void Dispose()
        {
            lock (_relay)
            {
                _relay.Done = true;
            }

            _owner._relays.TryRemove(_id, out _);
        }
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Admission;

/// <summary>
/// The admission webhook's serving certificate: <c>tls.crt</c> and <c>tls.key</c> (PEM) of the
/// mounted TLS Secret, polled on the key ring's period and swapped in place, so Kestrel serves a
/// renewed pair from the next handshake on — no restart. A pair that does not load keeps the last
/// good one (logged, counted); with none loaded the TLS handshake fails, so the apiserver applies
/// the webhook's failurePolicy — and the pod-facing port is not affected.
/// </summary>
internal sealed class WebhookCertificate : IHostedLifecycleService, IDisposable
{
    public const string CertificateFile = "tls.crt";
    public const string KeyFile = "tls.key";

    private readonly string _directory;
    private readonly TimeSpan _pollInterval;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookCertificate> _logger;
    private readonly Lock _reloadLock = new();
    private ITimer? _timer;
    private X509Certificate2? _current;
    private byte[]? _lastContent;
    private byte[]? _lastBadContent;
    private long _failures;
    private string? _lastError;

    public WebhookCertificate(ProxySettings settings, TimeProvider time, ILogger<WebhookCertificate> logger)
    {
        _directory = settings.AdmissionTlsDirectory;
        _pollInterval = settings.KeysPollInterval;
        _time = time;
        _logger = logger;
    }

    /// <summary>The pair in force; null until one has loaded.</summary>
    public X509Certificate2? Current => Volatile.Read(ref _current);

    public long ReloadFailureCount => Interlocked.Read(ref _failures);

    /// <summary>Reads both files now; true when the certificate in force changed.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            string certificatePem;
            string keyPem;
            try
            {
                certificatePem = File.ReadAllText(Path.Combine(_directory, CertificateFile));
                keyPem = File.ReadAllText(Path.Combine(_directory, KeyFile));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail($"the webhook's {CertificateFile}/{KeyFile} in '{_directory}' could not be read: {e.Message}", null);
            }

            var content = System.Text.Encoding.UTF8.GetBytes(certificatePem + "\0" + keyPem);
            if ((_lastContent is not null && content.AsSpan().SequenceEqual(_lastContent)) ||
                (_lastBadContent is not null && content.AsSpan().SequenceEqual(_lastBadContent)))
            {
                return false;
            }

            X509Certificate2 certificate;
            try
            {
                certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            }
            catch (CryptographicException e)
            {
                return Fail($"the webhook's {CertificateFile}/{KeyFile} in '{_directory}' do not make a certificate with its key: {e.Message}", content);
            }
            catch (ArgumentException e)
            {
                return Fail($"the webhook's {CertificateFile}/{KeyFile} in '{_directory}' do not make a certificate with its key: {e.Message}", content);
            }

            _lastContent = content;
            _lastBadContent = null;
            _lastError = null;
            // The previous certificate is not disposed: a handshake in flight may still hold it.
            Volatile.Write(ref _current, certificate);
            Log.AdmissionCertificateLoaded(_logger, certificate.Subject, certificate.NotAfter.ToUniversalTime(), certificate.Thumbprint);
            return true;
        }
    }

    private bool Fail(string error, byte[]? content)
    {
        _lastBadContent = content;
        Interlocked.Increment(ref _failures);
        // A missing or unreadable pair is retried every poll; it is logged when the problem changes, not every time.
        if (error != _lastError)
        {
            _lastError = error;
            Log.AdmissionCertificateRefused(_logger, error, Current is not null);
        }

        return false;
    }

    // Load before Kestrel listens, so the first handshake has a certificate.
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        Reload();
        _timer ??= _time.CreateTimer(_ => Reload(), null, _pollInterval, _pollInterval);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _timer?.Dispose();
}

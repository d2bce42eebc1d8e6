using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RequestsProxy.Server.Tests.Admission;

/// <summary>Self-signed serving pairs as PEM, written as a kubernetes.io/tls Secret volume would hold them.</summary>
internal static class TestCertificates
{
    public static (string Certificate, string Key, string Thumbprint) Create(string dnsName = "rp-requests-proxy-webhook.ml.svc")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), certificate.Thumbprint);
    }

    /// <summary>Writes both files (the kubelet swaps a Secret volume atomically; two writes are close enough for a poll).</summary>
    public static string Write(string directory, (string Certificate, string Key, string Thumbprint) pair)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "tls.key"), pair.Key);
        File.WriteAllText(Path.Combine(directory, "tls.crt"), pair.Certificate);
        return pair.Thumbprint;
    }
}

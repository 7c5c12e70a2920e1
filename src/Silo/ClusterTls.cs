using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Orleans.Connections.Security;

namespace ReMA.Silo;

/// <summary>
/// Optional TLS between silos and between clients and silos (Microsoft.Orleans.Connections.Security): a PKCS#12 file
/// with the cluster's certificate and private key (<c>ReMA:Tls:CertificatePath</c>, <c>ReMA:Tls:CertificatePassword</c>).
/// Every silo and client presents it (mutual TLS); a peer is accepted when its certificate validates against the
/// machine's trust store or is the cluster's own certificate (which is how a self-signed cluster certificate works).
/// </summary>
public sealed record TlsSettings(string CertificatePath, string? Password)
{
    public const string Section = "ReMA:Tls";

    public static TlsSettings? From(IConfiguration configuration)
    {
        string? path = configuration[$"{Section}:CertificatePath"];
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        if (!File.Exists(path))
        {
            throw new ArgumentException($"{Section}:CertificatePath: '{path}' does not exist (expected a PKCS#12 .pfx file holding the certificate and its private key).");
        }
        return new TlsSettings(path, configuration[$"{Section}:CertificatePassword"]);
    }

    public X509Certificate2 Load()
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(CertificatePath, Password);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            // The password is never part of the message.
            throw new ArgumentException($"{Section}:CertificatePath: '{CertificatePath}' cannot be read as PKCS#12 with the given {Section}:CertificatePassword ({e.Message}).", e);
        }
        return certificate.HasPrivateKey ? certificate
            : throw new ArgumentException($"{Section}:CertificatePath: '{CertificatePath}' has no private key; TLS needs the key of the certificate it presents.");
    }

    /// <summary>TLS options for a silo or client presenting <paramref name="certificate"/>.</summary>
    public static void Configure(TlsOptions options, X509Certificate2 certificate)
    {
        options.LocalCertificate = certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (remote, _, errors) =>
            errors == SslPolicyErrors.None || string.Equals(remote.Thumbprint, certificate.Thumbprint, StringComparison.OrdinalIgnoreCase);
    }

    public override string ToString() => $"TLS with the certificate in {CertificatePath}";
}

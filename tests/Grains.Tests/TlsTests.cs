using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReMA.Abstractions.Campaigns;
using ReMA.Grains.Tests.Processes;
using ReMA.Silo;

namespace ReMA.Grains.Tests;

/// <summary>Optional TLS: a client with the cluster's certificate talks to a TLS silo; one without cannot.</summary>
public class TlsTests
{
    private static string ClusterCertificate(string password)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=rema-cluster", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));   // server and client authentication
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        string path = Path.Combine(Directory.CreateTempSubdirectory("rema-tls").FullName, "cluster.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    private static async Task<bool> CanCallAsync(int gateway, string serviceId, TlsSettings? tls)
    {
        var builder = Host.CreateApplicationBuilder();
        int attempts = 0;
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(gateway, serviceId, serviceId);
            if (tls is not null)
            {
                var certificate = tls.Load();
                client.UseTls(certificate, o => TlsSettings.Configure(o, certificate));
            }
            client.UseConnectionRetryFilter((_, _) => Task.FromResult(++attempts < 2));
        });
        using IHost host = builder.Build();
        try
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<IClusterClient>().GetGrain<ICampaignIndexGrain>(0).List().WaitAsync(TimeSpan.FromSeconds(20));
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException and not Xunit.Sdk.XunitException)
        {
            return false;
        }
        finally
        {
            try
            {
                await host.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            }
            catch (Exception e) when (e is OperationCanceledException or OrleansException)
            {
            }
        }
    }

    [Fact]
    public async Task SiloWithTls_AcceptsClientsWithTheClusterCertificate_AndRefusesPlainOnes()
    {
        const string password = "test-password";
        string pfx = ClusterCertificate(password);
        int siloPort = ClusterProcesses.FreePort(), gatewayPort = ClusterProcesses.FreePort();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(PolicyClusterFixture.Settings)
        {
            ["ReMA:Tls:CertificatePath"] = pfx,
            ["ReMA:Tls:CertificatePassword"] = password,
            ["ReMA:Cluster:ServiceId"] = "tls",
            ["ReMA:Cluster:ClusterId"] = "tls",
        });
        builder.AddReMAEmbeddedSilo(siloPort, gatewayPort);
        using IHost silo = builder.Build();
        await silo.StartAsync();
        try
        {
            Assert.True(await CanCallAsync(gatewayPort, "tls", new TlsSettings(pfx, password)), "a client with the cluster certificate could not call the silo");
            Assert.False(await CanCallAsync(gatewayPort, "tls", null), "a client without TLS called a TLS silo");
        }
        finally
        {
            await silo.StopAsync();
        }
    }

    [Fact]
    public void BadTlsSettings_AreNamed_WithoutThePassword()
    {
        IConfiguration Config(string path, string password) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReMA:Tls:CertificatePath"] = path,
            ["ReMA:Tls:CertificatePassword"] = password,
        }).Build();
        Assert.Null(TlsSettings.From(new ConfigurationBuilder().Build()));
        var missing = Assert.Throws<ArgumentException>(() => TlsSettings.From(Config("/no/such/cluster.pfx", "x")));
        Assert.Contains("ReMA:Tls:CertificatePath: '/no/such/cluster.pfx' does not exist", missing.Message);
        string pfx = ClusterCertificate("right-password");
        var wrong = Assert.Throws<ArgumentException>(() => TlsSettings.From(Config(pfx, "WRONG-SECRET"))!.Load());
        Assert.Contains("cannot be read as PKCS#12", wrong.Message);
        Assert.DoesNotContain("WRONG-SECRET", wrong.Message);
    }
}

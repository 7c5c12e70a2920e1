using Microsoft.Extensions.Configuration;
using ReMA.Silo;

namespace ReMA.Grains.Tests.Azure;

public class ClusterSettingsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    [Fact]
    public void NoAzureSettings_MeansTheEmbeddedDefault()
    {
        Assert.Null(AzureStorageSettings.From(Config()));
        ClusterSettings cluster = ClusterSettings.From(Config(), 11111, 30000);
        Assert.Equal(("rema", "rema", 11111, 30000, "127.0.0.1", false),
            (cluster.ClusterId, cluster.ServiceId, cluster.SiloPort, cluster.GatewayPort, cluster.AdvertisedAddress.ToString(), cluster.ListenOnAnyAddress));
    }

    [Fact]
    public void BadAzureSettings_AreNamed_AndSecretsAreNeverEchoed()
    {
        var both = Assert.Throws<ArgumentException>(() => AzureStorageSettings.From(Config(
            ("ReMA:Azure:ConnectionString", "AccountName=a;AccountKey=SECRETKEY"), ("ReMA:Azure:TableServiceUri", "https://a.table.core.windows.net"))));
        Assert.Contains("alternatives", both.Message);
        Assert.DoesNotContain("SECRETKEY", both.Message);

        var malformed = Assert.Throws<ArgumentException>(() => AzureStorageSettings.From(Config(("ReMA:Azure:ConnectionString", "SECRETKEY"))));
        Assert.Contains("ReMA:Azure:ConnectionString is not a storage connection string", malformed.Message);
        Assert.DoesNotContain("SECRETKEY", malformed.Message);

        var half = Assert.Throws<ArgumentException>(() => AzureStorageSettings.From(Config(("ReMA:Azure:TableServiceUri", "https://a.table.core.windows.net/?sig=SECRETSAS"))));
        Assert.Contains("ReMA:Azure:BlobServiceUri is missing", half.Message);

        var bad = Assert.Throws<ArgumentException>(() => AzureStorageSettings.From(Config(
            ("ReMA:Azure:TableServiceUri", "ftp://x?sig=SECRETSAS"), ("ReMA:Azure:BlobServiceUri", "https://a.blob.core.windows.net"))));
        Assert.Contains("ReMA:Azure:TableServiceUri must be an absolute http(s) URI", bad.Message);
        Assert.DoesNotContain("SECRETSAS", bad.Message);

        var settings = AzureStorageSettings.From(Config(("ReMA:Azure:ConnectionString", "AccountName=a;AccountKey=SECRETKEY")))!;
        Assert.DoesNotContain("SECRETKEY", settings.ToString());
    }

    [Fact]
    public void BadClusterSettings_NameEveryField()
    {
        var e = Assert.Throws<ArgumentException>(() => ClusterSettings.From(Config(
            ("ReMA:Cluster:SiloPort", "0"), ("ReMA:Cluster:GatewayPort", "http"), ("ReMA:Cluster:AdvertisedAddress", "localhost:1"),
            ("ReMA:Cluster:ListenOnAnyAddress", "yes")), 11111, 30000));
        Assert.Contains("ReMA:Cluster:SiloPort must be a port number 1-65535 (got '0')", e.Message);
        Assert.Contains("ReMA:Cluster:GatewayPort must be a port number 1-65535 (got 'http')", e.Message);
        Assert.Contains("ReMA:Cluster:AdvertisedAddress must be an IP address (got 'localhost:1')", e.Message);
        Assert.Contains("ReMA:Cluster:ListenOnAnyAddress must be true or false (got 'yes')", e.Message);
    }

    [Fact]
    public void AdvertisedHost_IsResolvedAtStart_OrNamedWhenItCannotBe()
    {
        ClusterSettings local = ClusterSettings.From(Config(("ReMA:Cluster:AdvertisedHost", "localhost")), 11111, 30000);
        Assert.Equal("127.0.0.1", local.AdvertisedAddress.ToString());
        var e = Assert.Throws<ArgumentException>(() => ClusterSettings.From(Config(("ReMA:Cluster:AdvertisedHost", "no-such-host.invalid")), 11111, 30000));
        Assert.Contains("ReMA:Cluster:AdvertisedHost 'no-such-host.invalid' does not resolve", e.Message);
    }
}

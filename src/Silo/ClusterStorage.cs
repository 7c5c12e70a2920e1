using Microsoft.Extensions.DependencyInjection;
using System.Net;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using ReMA.Grains.Services;

namespace ReMA.Silo;

/// <summary>
/// Where a cluster keeps its durable state in Azure Storage (Azurite locally): a connection string
/// (<c>ReMA:Azure:ConnectionString</c>), or service URIs (<c>ReMA:Azure:TableServiceUri</c> and
/// <c>ReMA:Azure:BlobServiceUri</c>, with a SAS token in their query when the account needs one).
/// </summary>
public sealed record AzureStorageSettings(string? ConnectionString, Uri? TableServiceUri, Uri? BlobServiceUri)
{
    public const string Section = "ReMA:Azure";

    /// <summary>The settings, or null when none is given (the embedded default); throws on a half or malformed setting.</summary>
    public static AzureStorageSettings? From(IConfiguration configuration)
    {
        IConfigurationSection section = configuration.GetSection(Section);
        string? connection = section["ConnectionString"];
        string? tables = section["TableServiceUri"], blobs = section["BlobServiceUri"];
        if (string.IsNullOrWhiteSpace(connection) && string.IsNullOrWhiteSpace(tables) && string.IsNullOrWhiteSpace(blobs))
        {
            return null;
        }
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(connection))
        {
            if (!string.IsNullOrWhiteSpace(tables) || !string.IsNullOrWhiteSpace(blobs))
            {
                errors.Add($"{Section}:ConnectionString and {Section}:TableServiceUri/BlobServiceUri are alternatives; give one");
            }
            else if (!connection.Contains('=', StringComparison.Ordinal))
            {
                // Never echo the value: it may hold an account key.
                errors.Add($"{Section}:ConnectionString is not a storage connection string (expected Key=Value;... pairs such as AccountName=...;AccountKey=...;TableEndpoint=...)");
            }
        }
        else
        {
            Check("TableServiceUri", tables);
            Check("BlobServiceUri", blobs);
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors) + ".");
        }
        return string.IsNullOrWhiteSpace(connection)
            ? new AzureStorageSettings(null, new Uri(tables!), new Uri(blobs!))
            : new AzureStorageSettings(connection, null, null);

        void Check(string key, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"{Section}:{key} is missing (both service URIs are needed without a connection string)");
            }
            else if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
            {
                errors.Add($"{Section}:{key} must be an absolute http(s) URI such as https://ACCOUNT.{key[..4].ToLowerInvariant()}.core.windows.net/?SAS (the value is not shown: it may carry a SAS token)");
            }
        }
    }

    public TableServiceClient Tables() => ConnectionString is not null ? new TableServiceClient(ConnectionString) : new TableServiceClient(TableServiceUri!);

    public BlobServiceClient Blobs() => ConnectionString is not null ? new BlobServiceClient(ConnectionString) : new BlobServiceClient(BlobServiceUri!);

    /// <summary>Never prints the connection string (it may hold a key).</summary>
    public override string ToString() => ConnectionString is not null
        ? "Azure Storage (connection string)"
        : $"Azure Storage (tables {TableServiceUri!.GetLeftPart(UriPartial.Path)}, blobs {BlobServiceUri!.GetLeftPart(UriPartial.Path)})";
}

/// <summary>Cluster identity and endpoints: <c>ReMA:Cluster:*</c>.</summary>
public sealed record ClusterSettings(string ClusterId, string ServiceId, int SiloPort, int GatewayPort, IPAddress AdvertisedAddress, bool ListenOnAnyAddress,
    double? ProbeTimeoutSeconds = null, int? MissedProbes = null)
{
    public const string Section = "ReMA:Cluster";

    public static ClusterSettings From(IConfiguration configuration, int defaultSiloPort, int defaultGatewayPort)
    {
        IConfigurationSection s = configuration.GetSection(Section);
        var errors = new List<string>();
        int Port(string key, int fallback)
        {
            string? value = s[key];
            if (string.IsNullOrWhiteSpace(value))
            {
                return fallback;
            }
            if (int.TryParse(value, out int port) && port is > 0 and < 65536)
            {
                return port;
            }
            errors.Add($"{Section}:{key} must be a port number 1-65535 (got '{value}')");
            return fallback;
        }
        int silo = Port("SiloPort", defaultSiloPort), gateway = Port("GatewayPort", defaultGatewayPort);
        string address = s["AdvertisedAddress"] ?? "127.0.0.1";
        IPAddress? ip;
        if (s["AdvertisedHost"] is string host && !string.IsNullOrWhiteSpace(host))
        {
            // A host name (a container's, in docker-compose) resolved once at start-up.
            try
            {
                ip = Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
            }
            catch (System.Net.Sockets.SocketException)
            {
                ip = null;
            }
            if (ip is null)
            {
                errors.Add($"{Section}:AdvertisedHost '{host}' does not resolve to an IPv4 address");
                ip = IPAddress.Loopback;
            }
        }
        else if (!IPAddress.TryParse(address, out ip))
        {
            errors.Add($"{Section}:AdvertisedAddress must be an IP address (got '{address}')");
            ip = IPAddress.Loopback;
        }
        bool any = false;
        if (s["ListenOnAnyAddress"] is string listen && !bool.TryParse(listen, out any))
        {
            errors.Add($"{Section}:ListenOnAnyAddress must be true or false (got '{listen}')");
        }
        // Failure detection: how long a probe may go unanswered, and how many missed probes make a silo suspect.
        double? probe = null;
        if (s["ProbeTimeoutSeconds"] is string probeText)
        {
            if (double.TryParse(probeText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double p) && p is >= 0.5 and <= 300)
            {
                probe = p;
            }
            else
            {
                errors.Add($"{Section}:ProbeTimeoutSeconds must be a number of seconds between 0.5 and 300 (got '{probeText}')");
            }
        }
        int? missed = null;
        if (s["MissedProbes"] is string missedText)
        {
            if (int.TryParse(missedText, out int m) && m is >= 1 and <= 10)
            {
                missed = m;
            }
            else
            {
                errors.Add($"{Section}:MissedProbes must be a whole number between 1 and 10 (got '{missedText}')");
            }
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors) + ".");
        }
        return new ClusterSettings(s["ClusterId"] ?? "rema", s["ServiceId"] ?? "rema", silo, gateway, ip, any, probe, missed);
    }
}

public static class ClusterStorageExtensions
{
    /// <summary>In-memory grain state (the embedded default): lost with the process.</summary>
    public static ISiloBuilder AddReMAMemoryStorage(this ISiloBuilder silo) =>
        silo.AddMemoryGrainStorageAsDefault().AddMemoryGrainStorage(ReMAStorage.Campaigns);

    /// <summary>Grain state in a local folder shared by the silos of this machine.</summary>
    public static ISiloBuilder AddReMAFileStorage(this ISiloBuilder silo, string folder) =>
        silo.AddFileGrainStorageAsDefault(folder).AddFileGrainStorage(ReMAStorage.Campaigns, folder);

    /// <summary>
    /// Durable state in Azure Storage: learner, index and registry state in the table <c>remastate</c>; campaign state
    /// (which grows with its history) as blobs in the container <c>rema-campaigns</c>; reminders in the table
    /// <c>remareminders</c>; episodes in the container <c>rema-trajectories</c>, checkpoints in <c>rema-checkpoints</c>. Rows and blobs are keyed by the cluster's ServiceId, so a later cluster with the same
    /// ServiceId continues the same campaigns.
    /// </summary>
    public static ISiloBuilder AddReMAAzureStorage(this ISiloBuilder silo, AzureStorageSettings azure, string? checkpointCache = null,
        ReMA.Silo.Storage.CheckpointCachePolicy? cachePolicy = null)
    {
        silo.AddAzureTableGrainStorageAsDefault(o =>
        {
            o.TableServiceClient = azure.Tables();
            o.TableName = "remastate";
        });
        silo.AddAzureBlobGrainStorage(ReMAStorage.Campaigns, o =>
        {
            o.BlobServiceClient = azure.Blobs();
            o.ContainerName = "rema-campaigns";
        });
        // Grain state through Orleans' binary serialiser (StateSerializer says why the default JSON one is not used).
        silo.Services.AddSingleton(sp => new ReMA.Silo.Storage.StateSerializer(
            sp.GetRequiredService<Orleans.Serialization.Serializer>(), sp.GetRequiredService<Orleans.Storage.IGrainStorageSerializer>()));
        silo.Services.AddOptions<Orleans.Configuration.AzureTableStorageOptions>(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME)
            .Configure<ReMA.Silo.Storage.StateSerializer>((o, serializer) => o.GrainStorageSerializer = serializer);
        silo.Services.AddOptions<Orleans.Configuration.AzureBlobStorageOptions>(ReMAStorage.Campaigns)
            .Configure<ReMA.Silo.Storage.StateSerializer>((o, serializer) => o.GrainStorageSerializer = serializer);
        silo.UseAzureTableReminderService(o =>
        {
            o.TableServiceClient = azure.Tables();
            o.TableName = "remareminders";
        });
        // Episodes as blobs too (the last registration of a service wins).
        silo.Services.AddSingleton<ReMA.Grains.Storage.ITrajectoryStore>(_ => new ReMA.Silo.Storage.BlobTrajectoryStore(azure.Blobs()));
        silo.Services.AddSingleton<ReMA.Grains.Storage.ICheckpointStore>(_ => new ReMA.Silo.Storage.BlobCheckpointStore(azure.Blobs(),
            checkpointCache ?? ReMASiloExtensions.DefaultCheckpointCache, cachePolicy));
        return silo;
    }

    /// <summary>Membership in the Azure table <c>remamembership</c> (silos and clients find each other there).</summary>
    public static ISiloBuilder UseReMAAzureClustering(this ISiloBuilder silo, AzureStorageSettings azure, ClusterSettings cluster)
    {
        silo.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        silo.ConfigureEndpoints(cluster.AdvertisedAddress, cluster.SiloPort, cluster.GatewayPort, cluster.ListenOnAnyAddress);
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            if (cluster.ProbeTimeoutSeconds is double probe)
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(probe);
            }
            if (cluster.MissedProbes is int missed)
            {
                o.NumMissedProbesLimit = missed;
            }
        });
        silo.UseAzureStorageClustering(o =>
        {
            o.TableServiceClient = azure.Tables();
            o.TableName = "remamembership";
        });
        return silo;
    }

    /// <summary>The client side of <see cref="UseReMAAzureClustering"/>.</summary>
    public static IClientBuilder UseReMAAzureClustering(this IClientBuilder client, AzureStorageSettings azure, string clusterId = "rema", string serviceId = "rema")
    {
        client.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = serviceId;
        });
        client.UseAzureStorageClustering(o =>
        {
            o.TableServiceClient = azure.Tables();
            o.TableName = "remamembership";
        });
        return client;
    }
}

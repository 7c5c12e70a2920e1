using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;
using ReMA.Silo;

namespace ReMA.Grains.Tests.Azure;

/// <summary>Grain state, reminders and membership in Azure Storage, against a real Azurite.</summary>
public class AzureStorageTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static CampaignConfig Campaign(string name, int steps) => TestCampaigns.Small(name, steps);

    private InProcessTestCluster Cluster(string serviceId)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(PolicyClusterFixture.Settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) => silo.AddReMA(configuration).AddReMAAzureStorage(azurite.Emulator.Settings));
        return builder.Build();
    }

    [Fact]
    public async Task Campaign_ContinuesInALaterCluster_FromItsAzureState_AndAppliesEveryStepOnce()
    {
        string service = "svc" + Guid.NewGuid().ToString("N")[..8];
        string name = "camp-az-" + Guid.NewGuid().ToString("N")[..8];
        InProcessTestCluster first = Cluster(service);
        await first.DeployAsync();
        long stepsBefore;
        try
        {
            ICampaignGrain campaign = first.Client.GetGrain<ICampaignGrain>(name);
            await campaign.Start(Campaign(name, 4));
            CampaignStatus status = await CampaignWaits.WaitAsync(campaign, s => s.NextStep >= 2);
            Assert.Equal("running", status.Status);
            stepsBefore = status.NextStep;
        }
        finally
        {
            await first.DisposeAsync();     // the whole cluster goes away mid-campaign
        }

        // What the first cluster left in storage: the campaign as a blob, the learner and index in the state table,
        // the campaign's loop reminder in the reminder table.
        BlobServiceClient blobs = azurite.Emulator.Settings.Blobs();
        var names = new List<string>();
        await foreach (var blob in blobs.GetBlobContainerClient("rema-campaigns").GetBlobsAsync())
        {
            names.Add(blob.Name);
        }
        Assert.Contains(names, n => n.Contains(name, StringComparison.Ordinal));
        // Every episode of the finished steps is in the trajectory container.
        var episodes = new List<string>();
        await foreach (var blob in blobs.GetBlobContainerClient("rema-trajectories").GetBlobsAsync(global::Azure.Storage.Blobs.Models.BlobTraits.None, global::Azure.Storage.Blobs.Models.BlobStates.None, name + "/", CancellationToken.None))
        {
            episodes.Add(blob.Name);
        }
        Assert.True(episodes.Count(e => e.Contains("/step-00000000/", StringComparison.Ordinal)) == 4, string.Join(", ", episodes));
        TableServiceClient tables = azurite.Emulator.Settings.Tables();
        var stateRows = tables.GetTableClient("remastate").QueryAsync<TableEntity>(e => e.PartitionKey.CompareTo(service) >= 0);
        var keys = new List<string>();
        await foreach (TableEntity row in stateRows)
        {
            keys.Add(row.PartitionKey + "|" + row.RowKey);
        }
        Assert.Contains(keys, k => k.Contains(service, StringComparison.Ordinal) && k.Contains("learner", StringComparison.OrdinalIgnoreCase));
        var reminders = new List<string>();
        await foreach (TableEntity row in tables.GetTableClient("remareminders").QueryAsync<TableEntity>())
        {
            reminders.Add(string.Join("|", row.Select(kv => kv.Value?.ToString())));
        }
        Assert.Contains(reminders, r => r.Contains(name, StringComparison.Ordinal) && r.Contains("campaign-loop", StringComparison.Ordinal));

        // A new cluster with the same ServiceId: the campaign continues from its stored state and finishes.
        InProcessTestCluster second = Cluster(service);
        await second.DeployAsync();
        try
        {
            ICampaignGrain campaign = second.Client.GetGrain<ICampaignGrain>(name);
            CampaignStatus done = await CampaignWaits.WaitAsync(campaign, s => s.Status == "completed", seconds: 180);
            Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}");
            Assert.True(done.Activations >= 2, $"activations {done.Activations}");
            Assert.True(stepsBefore >= 2);
            Assert.Equal([0L, 1L, 2L, 3L], (await campaign.History()).Select(h => h.Step));
            Assert.Equal(4, await second.Client.GetGrain<ILearnerGrain>($"{name}.shared").Version());
            Assert.Contains(name, await second.Client.GetGrain<ICampaignIndexGrain>(0).List());
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task StorageRestartMidCampaign_PausesTheLoop_ThenItContinuesWithNothingLost()
    {
        // An emulator of its own, on disk, so that a restart keeps the data.
        await using Azurite storage = await Azurite.StartAsync(onDisk: true);
        string service = "svc" + Guid.NewGuid().ToString("N")[..8];
        string name = "camp-outage-" + Guid.NewGuid().ToString("N")[..8];
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(PolicyClusterFixture.Settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = service;
        builder.ConfigureSilo((_, silo) => silo.AddReMA(configuration).AddReMAAzureStorage(storage.Settings));
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            ICampaignGrain campaign = cluster.Client.GetGrain<ICampaignGrain>(name);
            await campaign.Start(Campaign(name, 6));
            await CampaignWaits.WaitAsync(campaign, s => s.NextStep >= 2);
            await storage.StopAsync();
            // While storage is down the loop reports the trouble and retries instead of failing the campaign.
            CampaignStatus paused = await CampaignWaits.WaitAsync(campaign, s => s.Warning is not null, seconds: 60);
            Assert.Equal("running", paused.Status);
            Assert.NotNull(paused.Warning);
            long stalledAt = paused.NextStep;
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.InRange((await campaign.Status()).NextStep, stalledAt, stalledAt + 1);   // no progress without storage
            await storage.StartAgainAsync();

            CampaignStatus done = await CampaignWaits.WaitAsync(campaign, s => s.Status == "completed", seconds: 180);
            Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}, warning {done.Warning}");
            Assert.Null(done.Warning);
            Assert.Equal([0L, 1L, 2L, 3L, 4L, 5L], (await campaign.History()).Select(h => h.Step));
            Assert.Equal(6, await cluster.Client.GetGrain<ILearnerGrain>($"{name}.shared").Version());
        }
        finally
        {
            await cluster.DisposeAsync();
        }
        // What storage holds is the finished campaign: a fresh cluster with the same ServiceId reads it back.
        var reader = new InProcessTestClusterBuilder(1);
        reader.Options.ServiceId = service;
        reader.ConfigureSilo((_, silo) => silo.AddReMA(configuration).AddReMAAzureStorage(storage.Settings));
        InProcessTestCluster second = reader.Build();
        await second.DeployAsync();
        try
        {
            CampaignStatus stored = await second.Client.GetGrain<ICampaignGrain>(name).Status();
            Assert.Equal(("completed", 6L), (stored.Status, stored.NextStep));
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task StorageThatLosesItsData_FailsTheCampaignWithTheReason_AfterTheBoundedTime()
    {
        // An in-memory emulator of its own: restarting it loses every container and table, as an operator saw.
        await using Azurite storage = await Azurite.StartAsync();
        string name = "camp-lost-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new Dictionary<string, string?>(PolicyClusterFixture.Settings) { ["ReMA:Campaigns:StorageLossSeconds"] = "6" };
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = "svc" + Guid.NewGuid().ToString("N")[..8];
        builder.ConfigureSilo((_, silo) => silo.AddReMA(configuration).AddReMAAzureStorage(storage.Settings));
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            ICampaignGrain campaign = cluster.Client.GetGrain<ICampaignGrain>(name);
            await campaign.Start(Campaign(name, 40));
            await CampaignWaits.WaitAsync(campaign, s => s.NextStep >= 1);
            await storage.StopAsync();
            await storage.StartAgainAsync();   // answers again, with none of the data
            CampaignStatus warned = await CampaignWaits.WaitAsync(campaign, s => s.Warning?.Contains("storage lost its data", StringComparison.Ordinal) == true, seconds: 60);
            Assert.Equal("running", warned.Status);
            Assert.Contains("does not exist", warned.Warning, StringComparison.Ordinal);
            CampaignStatus failed = await CampaignWaits.WaitAsync(campaign, s => s.Status == "failed", seconds: 60);
            Assert.True(failed.Status == "failed", $"status {failed.Status}, warning {failed.Warning}");
            Assert.Contains("storage lost the campaign's data", failed.Error, StringComparison.Ordinal);
            Assert.Contains("StorageLossSeconds", failed.Error, StringComparison.Ordinal);
            Assert.True(failed.NextStep < 40);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task ServiceUriSettings_WithSasTokens_ReachTablesAndBlobs()
    {
        // An account SAS for each service, as an operator would put in ReMA:Azure:TableServiceUri / BlobServiceUri.
        var connection = new AzureStorageSettings(azurite.Emulator.ConnectionString, null, null);
        Uri tableSas = connection.Tables().GenerateSasUri(global::Azure.Data.Tables.Sas.TableAccountSasPermissions.All,
            global::Azure.Data.Tables.Sas.TableAccountSasResourceTypes.All, DateTimeOffset.UtcNow.AddHours(1));
        Uri blobSas = connection.Blobs().GenerateAccountSasUri(global::Azure.Storage.Sas.AccountSasPermissions.All, DateTimeOffset.UtcNow.AddHours(1),
            global::Azure.Storage.Sas.AccountSasResourceTypes.All);
        IConfiguration settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReMA:Azure:TableServiceUri"] = tableSas.ToString(),
            ["ReMA:Azure:BlobServiceUri"] = blobSas.ToString(),
        }).Build();
        AzureStorageSettings byUri = AzureStorageSettings.From(settings)!;
        Assert.Null(byUri.ConnectionString);
        Assert.DoesNotContain("sig=", byUri.ToString(), StringComparison.Ordinal);
        string table = "sas" + Guid.NewGuid().ToString("N")[..8];
        await byUri.Tables().CreateTableIfNotExistsAsync(table);
        await byUri.Tables().GetTableClient(table).AddEntityAsync(new TableEntity("p", "r") { ["v"] = 1 });
        string container = "sas-" + Guid.NewGuid().ToString("N")[..8];
        await byUri.Blobs().GetBlobContainerClient(container).CreateIfNotExistsAsync();
        await byUri.Blobs().GetBlobContainerClient(container).GetBlobClient("x").UploadAsync(BinaryData.FromString("ok"));
        // The same URIs without their tokens are refused by the service.
        var anonymous = new AzureStorageSettings(null, new Uri(tableSas.GetLeftPart(UriPartial.Path)), new Uri(blobSas.GetLeftPart(UriPartial.Path)));
        await Assert.ThrowsAsync<global::Azure.RequestFailedException>(() => anonymous.Blobs().GetBlobContainerClient(container).GetBlobClient("x").DownloadContentAsync());
    }

    [Fact]
    public async Task SiloAndClient_FindEachOtherThroughTheAzureMembershipTable()
    {
        string service = "svc" + Guid.NewGuid().ToString("N")[..8];
        int siloPort = FreePort(), gatewayPort = FreePort();
        var siloBuilder = Host.CreateApplicationBuilder();
        siloBuilder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(PolicyClusterFixture.Settings)
        {
            ["ReMA:Azure:ConnectionString"] = azurite.Emulator.ConnectionString,
            ["ReMA:Cluster:ClusterId"] = service,
            ["ReMA:Cluster:ServiceId"] = service,
            ["ReMA:Cluster:SiloPort"] = siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ReMA:Cluster:GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        siloBuilder.AddReMAEmbeddedSilo();
        using IHost silo = siloBuilder.Build();
        await silo.StartAsync();
        try
        {
            var clientBuilder = Host.CreateApplicationBuilder();
            clientBuilder.UseOrleansClient(c => c.UseReMAAzureClustering(azurite.Emulator.Settings, service, service));
            using IHost client = clientBuilder.Build();
            await client.StartAsync();
            try
            {
                IClusterClient grains = client.Services.GetRequiredService<IClusterClient>();
                await grains.GetGrain<ICampaignIndexGrain>(0).Add("through-azure");
                Assert.Contains("through-azure", await grains.GetGrain<ICampaignIndexGrain>(0).List());
            }
            finally
            {
                await client.StopAsync();
            }
            // The silo's row in the membership table: active, on loopback at the configured port.
            var rows = new List<TableEntity>();
            await foreach (TableEntity row in azurite.Emulator.Settings.Tables().GetTableClient("remamembership").QueryAsync<TableEntity>())
            {
                rows.Add(row);
            }
            Assert.Contains(rows, r => r.PartitionKey.Contains(service, StringComparison.Ordinal)
                && r.GetString("Address") == "127.0.0.1" && r.GetString("Port") == siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture) && r.GetString("Status") == "Active");
        }
        finally
        {
            await silo.StopAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

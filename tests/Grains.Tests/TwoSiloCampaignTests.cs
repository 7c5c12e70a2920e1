using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;
using ReMA.Silo;

namespace ReMA.Grains.Tests;

/// <summary>Two in-process silos sharing grain state in a local folder (the file storage provider).</summary>
public class TwoSiloCampaignTests
{
    [Fact]
    public async Task Campaign_ContinuesOnTheOtherSilo_WhenTheSiloHostingItStops_AndAppliesEveryStepOnce()
    {
        string stateFolder = Directory.CreateTempSubdirectory("rema-state").FullName;
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(PolicyClusterFixture.Settings).Build();
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddReMA(configuration).AddReMAFileStorage(stateFolder).UseInMemoryReminderService());
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            string name = "camp-2s-" + Guid.NewGuid().ToString("N")[..8];
            var config = TestCampaigns.Small(name, steps: 4, group: 2, prompts: 2, maxTurns: 3, maxTokens: 12);
            ICampaignGrain campaign = cluster.Client.GetGrain<ICampaignGrain>(name);
            await campaign.Start(config);
            CampaignStatus status = await CampaignWaits.WaitAsync(campaign, s => s.NextStep >= 1);
            string host = status.Silo;
            InProcessSiloHandle hosting = cluster.Silos.Single(s => s.SiloAddress.ToString() == host);
            await cluster.StopSiloAsync(hosting);

            // The next call activates the campaign on the surviving silo from its stored state; it finishes there.
            CampaignStatus done = await CampaignWaits.WaitAsync(campaign, s => s.Status == "completed", seconds: 180);
            Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}");
            Assert.NotEqual(host, done.Silo);
            Assert.True(done.Activations >= 2);
            Assert.Equal([0L, 1L, 2L, 3L], (await campaign.History()).Select(h => h.Step));
            // The learner applied each step once: version = number of steps (no SFT here).
            Assert.Equal(4, await cluster.Client.GetGrain<ILearnerGrain>($"{name}.shared").Version());
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}

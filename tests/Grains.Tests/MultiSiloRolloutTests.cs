using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Policy;
using ReMA.Silo;

namespace ReMA.Grains.Tests;

/// <summary>Three silos: every silo serves its own episodes from its own policy replica, and every replica follows the learner.</summary>
public class MultiSiloRolloutTests
{
    [Fact]
    public async Task EverySilo_GeneratesOnItsOwnReplica_AndEveryReplicaServesTheLearnersVersion()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(PolicyClusterFixture.Settings).Build();
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo.AddReMA(configuration).AddReMAMemoryStorage().UseInMemoryReminderService());
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            string name = "camp-3s-" + Guid.NewGuid().ToString("N")[..8];
            var config = TestCampaigns.Small(name, steps: 3, group: 4, prompts: 4, maxTurns: 2, maxTokens: 8);
            ICampaignGrain campaign = cluster.Client.GetGrain<ICampaignGrain>(name);
            await campaign.Start(config);
            CampaignStatus done = await CampaignWaits.WaitAsync(campaign, s => s.Status == "completed", seconds: 180);
            Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}");

            string policy = $"{name}.shared";
            long version = await cluster.Client.GetGrain<ILearnerGrain>(policy).Version();
            Assert.Equal(3, version);
            string[] replicas = await cluster.Client.GetGrain<IPolicyRegistryGrain>(policy).Replicas();
            var silos = cluster.Silos.Select(s => s.SiloAddress.ToString()).OrderBy(s => s).ToArray();
            Assert.Equal(silos, replicas.Select(r => PolicyKey.SiloOf(r)!.ToString()).OrderBy(s => s).ToArray());
            foreach (string replica in replicas)
            {
                PolicyInfo info = await cluster.Client.GetGrain<IPolicyGrain>(replica).GetInfo();
                Assert.Equal(PolicyKey.SiloOf(replica)!.ToString(), info.SiloAddress);      // the replica lives on the silo it is named after
                Assert.True(info.GeneratedTokens > 0, $"{replica} generated nothing: its silo ran no episodes");
                Assert.Equal(version, info.Version);                          // and serves the learner's latest version
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task SiloRoles_PutCampaignAndLearnerOnTheLearnerSilo_AndEpisodesOnRolloutSilos()
    {
        var roles = new Dictionary<string, string>();
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((options, silo) =>
        {
            // The first silo only learns; the other two only roll out.
            // Silos may be configured concurrently: the first to arrive learns, under a lock.
            string role;
            lock (roles)
            {
                role = roles.Count == 0 ? "learner" : "rollout";
                roles[options.SiloName] = role;
            }
            IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(PolicyClusterFixture.Settings)
                .AddInMemoryCollection([new KeyValuePair<string, string?>("ReMA:Silo:Roles", role)]).Build();
            silo.AddReMA(configuration).AddReMAMemoryStorage().UseInMemoryReminderService();
        });
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            string learnerSilo = cluster.Silos.Single(s => roles[s.Name] == "learner").SiloAddress.ToString();
            string name = "camp-roles-" + Guid.NewGuid().ToString("N")[..8];
            var config = TestCampaigns.Small(name, steps: 2, group: 4, prompts: 4, maxTurns: 2, maxTokens: 8);
            ICampaignGrain campaign = cluster.Client.GetGrain<ICampaignGrain>(name);
            await campaign.Start(config);
            CampaignStatus done = await CampaignWaits.WaitAsync(campaign, s => s.Status == "completed", seconds: 180);
            Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}");
            Assert.Equal(learnerSilo, done.Silo);
            string[] replicas = await cluster.Client.GetGrain<IPolicyRegistryGrain>($"{name}.shared").Replicas();
            var replicaSilos = replicas.Select(r => PolicyKey.SiloOf(r)!.ToString()).Distinct().OrderBy(s => s).ToArray();
            var rolloutSilos = cluster.Silos.Where(s => roles[s.Name] == "rollout").Select(s => s.SiloAddress.ToString()).OrderBy(s => s).ToArray();
            Assert.Equal(rolloutSilos, replicaSilos);     // episodes ran on both rollout silos and nowhere else
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public void SiloRoleSettings_AreChecked()
    {
        Assert.Equal("all", ReMA.Grains.Placement.SiloRoles.Parse(null));
        Assert.Equal("learner,rollout", ReMA.Grains.Placement.SiloRoles.Parse(" Rollout, learner "));
        var e = Assert.Throws<ArgumentException>(() => ReMA.Grains.Placement.SiloRoles.Parse("rollout,trainer"));
        Assert.Contains("ReMA:Silo:Roles: 'rollout,trainer' names unknown roles (trainer)", e.Message);
        Assert.True(ReMA.Grains.Placement.SiloRoles.Takes("learner,rollout", "rollout"));
        Assert.False(ReMA.Grains.Placement.SiloRoles.Takes("learner", "rollout"));
        Assert.True(ReMA.Grains.Placement.SiloRoles.Takes(null, "rollout"));
    }

    [Fact]
    public void LocalReplicaKeys_ResolvePerSilo_AndNamedKeysStayAsTheyAre()
    {
        SiloAddress silo = SiloAddress.FromParsableString("127.0.0.1:11111@42");
        string key = PolicyKey.Resolve("camp.shared/local", silo);
        Assert.Equal("camp.shared/silo-127.0.0.1:11111@42", key);
        Assert.Equal("camp.shared", PolicyKey.PolicyId(key));
        Assert.Equal(silo, PolicyKey.SiloOf(key));
        Assert.Equal("shared/0", PolicyKey.Resolve("shared/0", silo));
        Assert.Null(PolicyKey.SiloOf("shared/0"));
    }
}

using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Policy;
using ReMA.Learner.Model;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Tests;

public class PolicyRegistryTests(PolicyClusterFixture fixture) : IClassFixture<PolicyClusterFixture>
{
    [Fact]
    public async Task RegisteredPolicies_AreBuiltFromTheirModelAndPlayEpisodes()
    {
        var client = fixture.Cluster.Client;
        var model = new PolicyModel("nano-qwen2", null, Seed: 12, MaxBatch: 16);
        await client.GetGrain<IPolicyRegistryGrain>("camp1.shared").Register(model);
        await client.GetGrain<IPolicyRegistryGrain>("camp1.shared").Register(model);      // same model again: fine
        var clash = await Assert.ThrowsAnyAsync<Exception>(() => client.GetGrain<IPolicyRegistryGrain>("camp1.shared").Register(model with { Seed = 13 }));
        Assert.Contains("already registered", clash.Message);

        PolicyInfo info = await client.GetGrain<IPolicyGrain>("camp1.shared/0").GetInfo();
        Assert.Equal(ModelConfig.Qwen2Architecture, info.Architecture);

        var options = new Dictionary<string, string> { ["train_size"] = "8", ["eval_size"] = "2" };
        Problem p = ArithmeticTask.FromOptions(new TaskOptions("arithmetic", options)).Load("test")[0];
        EpisodeOutcome outcome = await client.GetGrain<IEpisodeGrain>("camp1-ep0").Run(new EpisodeRequest("camp1-ep0", "g",
            new ProblemRecord(p.Id, p.Question, p.Answer, p.Split, new Dictionary<string, string>(p.Metadata)), "arithmetic", options,
            new EpisodeSpec("vrp", "full", 1, 8, 2000, false, new SamplingSpec(Seed: 1)),
            new Dictionary<string, string> { [Roles.Reasoner] = "camp1.shared/0" }));
        Assert.Single(outcome.Rows);
    }

    [Fact]
    public async Task UnregisteredPolicies_FailNamingBothPlaces()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Cluster.Client.GetGrain<IPolicyGrain>("ghost/0").GetInfo());
        Assert.Contains("policy 'ghost' is not configured under ReMA:Policies", error.Message);
        Assert.Contains("no campaign registered it", error.Message);
        var invalid = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Cluster.Client.GetGrain<IPolicyRegistryGrain>("both").Register(new PolicyModel("nano", "/some/path")));
        Assert.Contains("exactly one of preset and path", invalid.Message);
    }
}

using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Episodes;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Tests;

public class EpisodeGrainTests(PolicyClusterFixture fixture) : IClassFixture<PolicyClusterFixture>
{
    [Fact]
    public async Task ConcurrentEpisodes_BatchOnTheirPolicyGrain_AndReturnValidRows()
    {
        var options = new Dictionary<string, string> { ["train_size"] = "20", ["eval_size"] = "16" };
        var problems = ArithmeticTask.FromOptions(new TaskOptions("arithmetic", options)).Load("test");
        var spec = new EpisodeSpec("rema-multi-turn", "compact", MaxTurns: 3, MaxTokensPerTurn: 10, MaxContextTokens: 1000, StopWhenTruncated: false,
            new SamplingSpec(Seed: 9));
        var policies = new Dictionary<string, string> { [Roles.Meta] = "episodes/0", [Roles.Reasoner] = "episodes/0" };
        EpisodeOutcome[] outcomes = await Task.WhenAll(problems.Select((p, i) =>
            fixture.Cluster.Client.GetGrain<IEpisodeGrain>($"ep-{i}").Run(new EpisodeRequest(
                $"ep-{i}", $"g{i / 4}", new ProblemRecord(p.Id, p.Question, p.Answer, p.Split, new Dictionary<string, string>(p.Metadata)),
                "arithmetic", options, spec, policies))));

        Assert.Equal(16, outcomes.Length);
        foreach (EpisodeOutcome o in outcomes)
        {
            Assert.Contains(o.FinishReason, new[] { FinishReasons.Finished, FinishReasons.MaxTurns, FinishReasons.ContextExceeded });
            Assert.InRange(o.Transcript.Max(t => t.Round), 0, 2);
            Assert.Equal([Roles.Meta, Roles.Reasoner], o.Rewards.Keys.Order());
            Assert.All(o.Rows, r => EpisodeGrain.FromRecord(r).Validate());
            Assert.Contains(o.Rows, r => r.Role == Roles.Meta);
        }
        PolicyInfo info = await fixture.Cluster.Client.GetGrain<IPolicyGrain>("episodes/0").GetInfo();
        Assert.True(info.PeakBatch > 1, $"episodes' turns should share decode steps (peak batch {info.PeakBatch})");
    }

    [Fact]
    public async Task AgentGrains_HoldTheRoleView_KeepOrDropFinish_AndHandOverRowsWithTheReward()
    {
        string id = "agents-" + Guid.NewGuid().ToString("N")[..8];
        IMetaAgentGrain meta = fixture.Cluster.Client.GetGrain<IMetaAgentGrain>(id);
        IReasonerAgentGrain reasoner = fixture.Cluster.Client.GetGrain<IReasonerAgentGrain>(id);
        await meta.Configure(new AgentSetup(Roles.Meta, "", "episodes/0", "full", id, "g"));
        await reasoner.Configure(new AgentSetup(Roles.Reasoner, "", "episodes/0", "full", id, "g"));
        var sampling = new SamplingSpec(Temperature: 1f, MaxNewTokens: 6, Seed: 3);

        AgentTurn first = await meta.Speak("Compute 4*2+3.", sampling, 1000);
        Assert.NotNull(first.Response);
        AgentTurn second = await reasoner.Speak(first.Response!.Text, sampling, 1000);
        Assert.NotNull(second.Response);
        Assert.Null((await reasoner.Speak(new string('x', 2000), sampling, 1000)).Response);   // view too long: no turn

        TrajectoryRecord[] metaRows = await meta.Rows(1.0, []);
        TrajectoryRecord[] reasonerRows = await reasoner.Rows(0.0, [1.0]);
        Assert.Equal(Roles.Meta, Assert.Single(metaRows).Role);
        Assert.Equal([1.0], metaRows[0].TurnRewards);
        Assert.Null(metaRows[0].StepScores);
        Assert.Equal([0.0], Assert.Single(reasonerRows).TurnRewards);
        Assert.Equal([1.0], reasonerRows[0].StepScores!);
        // The trained tokens are exactly the ids the policy sampled (6 tokens cannot hold a [FINISH] stop).
        Assert.Equal(first.Response.TokenIds, metaRows[0].TokenIds.Where((_, j) => metaRows[0].LossMask[j]));

        var wrongRole = await Assert.ThrowsAsync<ArgumentException>(() =>
            fixture.Cluster.Client.GetGrain<IReasonerAgentGrain>(id + "-x").Configure(new AgentSetup(Roles.Meta, "", "episodes/0", "full", id, "g")));
        Assert.Contains("plays 'reasoner'", wrongRole.Message);
    }
}

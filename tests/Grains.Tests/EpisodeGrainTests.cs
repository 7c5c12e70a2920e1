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
}

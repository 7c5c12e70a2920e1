using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Learning;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Policy;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Model;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;
using static TorchSharp.torch;

namespace ReMA.Grains.Tests;

public class LearnerGrainTests(PolicyClusterFixture fixture) : IClassFixture<PolicyClusterFixture>
{
    private async Task<TrajectoryRecord[]> RolloutAsync(int step, string replica = "learn/0")
    {
        var options = new Dictionary<string, string> { ["train_size"] = "16", ["eval_size"] = "4" };
        var problems = ArithmeticTask.FromOptions(new TaskOptions("arithmetic", options)).Load("train").Take(4).ToList();
        var spec = new EpisodeSpec("rema-multi-turn", "compact", MaxTurns: 2, MaxTokensPerTurn: 8, MaxContextTokens: 1000, StopWhenTruncated: false, new SamplingSpec(Seed: (ulong)step + 1));
        var policies = new Dictionary<string, string> { [Roles.Meta] = replica, [Roles.Reasoner] = replica };
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
        {
            var p = problems[i / 4];
            string id = $"{replica.Replace('/', '-')}-{step}-{i}";
            return fixture.Cluster.Client.GetGrain<IEpisodeGrain>(id).Run(new EpisodeRequest(id, $"s{step}-g{i / 4}",
                new ProblemRecord(p.Id, p.Question, p.Answer, p.Split, new Dictionary<string, string>(p.Metadata)), "arithmetic", options, spec, policies));
        }));
        // A terminal reward that varies within groups, so that the update has a signal (the untrained model never solves these).
        return outcomes.SelectMany((o, i) => o.Rows.Select(r => r with { TurnRewards = r.TurnRewards.Select((_, t) => t == r.TurnRewards.Length - 1 ? i % 2 : 0.0).ToArray() })).ToArray();
    }

    [Fact]
    public async Task Sft_OnReplayedDemonstrations_LowersTheLossAndPublishes()
    {
        var task = new ArithmeticTask(trainSize: 24, evalSize: 4);
        var settings = new Episodes.EpisodeSettings { View = Episodes.ViewMode.Compact, MaxTokensPerTurn = 64, MaxContextTokens = 4000 };
        var rows = new List<TrajectoryRecord>();
        foreach (Problem p in task.Load("train"))
        {
            var replay = new Episodes.EpisodeRunner(task, settings, new Episodes.DemonstrationGenerator(task.Demonstrate(p, Protocol.RemaMultiTurn), _ => new Learner.Tokenization.ChatTemplate(new Learner.Tokenization.CharTokenizer())));
            rows.AddRange((await replay.RunAsync(p, "demo-" + p.Id, p.Id)).Rows.Select(Episodes.EpisodeGrain.ToRecord));
        }
        string root = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        ILearnerGrain learner = fixture.Cluster.Client.GetGrain<ILearnerGrain>("sft");
        await learner.Configure(new LearnerSetup(new AlgorithmSpec(), root, ["sft/0"], Seed: 1, Temperature: 1f));
        SftResult result = await learner.Sft([.. rows], new SftSpec { Epochs = 3, LearningRate = 3e-3, BatchRows = 48 });
        Assert.True(result.LossAfter < 0.7 * result.LossBefore, $"sft loss {result.LossBefore:F3} -> {result.LossAfter:F3}");
        Assert.Equal(1, result.Version);
        Assert.Equal(1, (await fixture.Cluster.Client.GetGrain<IPolicyGrain>("sft/0").GetInfo()).Version);
    }

    [Fact]
    public async Task CosineSchedule_DecaysOverTheUpdatesTheCampaignAnnounced()
    {
        // Three announced updates, no warm-up: the rates are peak x (1 + cos(pi k / 3)) / 2 for k = 0, 1, 2.
        string root = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        ILearnerGrain learner = fixture.Cluster.Client.GetGrain<ILearnerGrain>("cosine");
        var algorithm = new AlgorithmSpec { LearningRate = 1e-3, LrSchedule = "cosine", WarmupSteps = 0 };
        await learner.Configure(new LearnerSetup(algorithm, root, ["cosine/0"], Seed: 3, Temperature: 1f, Updates: 3));
        TrajectoryRecord[] rows = await RolloutAsync(0);
        double[] rates = new double[3];
        for (int step = 0; step < 3; step++)
        {
            rates[step] = (await learner.Step(step, rows)).Metrics.LearningRate;
        }
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(1e-3 * 0.5 * (1 + Math.Cos(Math.PI * k / 3)), rates[k], 12);
        }
    }

    [Fact]
    public async Task RecomputedOldLogProbs_ReportTheLargestDisagreementWithTheSampler()
    {
        // Rows sampled by the policy's own replica at version 0, scored by its learner at version 0: they agree to
        // float tolerance, except one recorded log-prob moved by 0.5, which the drift must show.
        string root = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        ILearnerGrain learner = fixture.Cluster.Client.GetGrain<ILearnerGrain>("recompute");
        var algorithm = CampaignFile.Parse("""{ "algorithm": { "recompute_old_log_probs": true } }""", "recompute.json").Algorithm;
        Assert.True(algorithm.RecomputeOldLogProbs);
        await learner.Configure(new LearnerSetup(algorithm, root, ["recompute/0"], Seed: 3, Temperature: 1f));
        TrajectoryRecord[] rows = await RolloutAsync(0, "recompute/0");
        // A row without missing log-probs: only the option makes the learner score it.
        int row = Array.FindIndex(rows, r => r.LossMask.Any(m => m) && !r.LossMask.Where((m, j) => m && float.IsNaN(r.OldLogProbs[j])).Any());
        int position = Array.FindIndex(rows[row].LossMask, m => m);
        float[] old = [.. rows[row].OldLogProbs];
        old[position] += 0.5f;
        rows[row] = rows[row] with { OldLogProbs = old };
        LearnerMetrics metrics = (await learner.Step(0, rows)).Metrics;
        Assert.InRange(metrics.OldLogProbDrift, 0.5 - 1e-4, 0.5 + 1e-4);
    }

    [Fact]
    public void Campaign_AnnouncesEachPoliciesNumberOfUpdates_AndHowManyUpdateTogether()
    {
        var shared = new Campaigns.CampaignPlan(new CampaignConfig { Name = "c", Steps = 25 });
        Assert.Equal(25, shared.UpdatesOf("c.shared"));
        Assert.Equal(1, shared.PoliciesTrainedTogether);
        var together = new Campaigns.CampaignPlan(new CampaignConfig { Name = "c", Steps = 25, Roles = new RolesSpec { Parameters = "separate" } });
        Assert.Equal(2, together.PoliciesTrainedTogether);
        Assert.Equal(2, together.TrainedPolicies(7).Count);
        // Alternating every 10 steps, meta first: meta trains at steps 0-9 and 20-24, the reasoner at 10-19.
        var alternating = new Campaigns.CampaignPlan(new CampaignConfig
        {
            Name = "c", Steps = 25, Roles = new RolesSpec { Parameters = "separate", Schedule = "alternating", SwitchEvery = 10, FirstRole = Roles.Meta },
        });
        Assert.Equal(15, alternating.UpdatesOf("c.meta"));
        Assert.Equal(10, alternating.UpdatesOf("c.reasoner"));
        Assert.Equal(1, alternating.PoliciesTrainedTogether);
    }

    [Fact]
    public async Task Step_UpdatesEveryParameter_PublishesTheVersion_AndIsAppliedExactlyOnce()
    {
        string root = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        ILearnerGrain learner = fixture.Cluster.Client.GetGrain<ILearnerGrain>("learn");
        await learner.Configure(new LearnerSetup(new AlgorithmSpec { LearningRate = 1e-3 }, root, ["learn/0"], Seed: 3, Temperature: 1f));

        TrajectoryRecord[] rows = await RolloutAsync(0);
        LearnerStepResult first = await learner.Step(0, rows);
        Assert.Equal(1, first.Version);
        Assert.Equal(rows.Length, first.Metrics.Rows);
        Assert.True(first.Metrics.GradNorm > 0);
        Assert.InRange(first.Metrics.ComputedTokens, 1, first.Metrics.PassRowTokens);
        Assert.Equal(1, (await fixture.Cluster.Client.GetGrain<IPolicyGrain>("learn/0").GetInfo()).Version);

        // Every trainable parameter differs from the initial weights of the same policy.
        (CausalLM initial, _) = PolicyModelLoader.Load(new PolicySource { Preset = "nano", Seed = 21 });
        using (initial)
        using (CausalLM trained = ModelFolder.LoadModel(first.CheckpointPath))
        {
            var before = initial.state_dict();
            Assert.All(trained.state_dict(), kv => Assert.False(before[kv.Key].eq(kv.Value).all().item<bool>(), $"{kv.Key} unchanged"));
        }

        // A retried step returns the stored result without a second update.
        LearnerStepResult again = await learner.Step(0, rows);
        Assert.Equal(first.Version, again.Version);
        Assert.Equal(1, await learner.Version());

        // After the learner's activation is lost, it resumes from its checkpoint and continues the version history.
        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        // The policy replica, reactivated, asks its learner and serves version 1 again.
        Assert.Equal(1, (await fixture.Cluster.Client.GetGrain<IPolicyGrain>("learn/0").GetInfo()).Version);
        LearnerStepResult second = await learner.Step(1, await RolloutAsync(1));
        Assert.Equal(2, second.Version);
        Assert.Equal(2, (await fixture.Cluster.Client.GetGrain<IPolicyGrain>("learn/0").GetInfo()).Version);
    }
}

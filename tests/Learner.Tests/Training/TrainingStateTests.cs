using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Training;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests.Training;

public class TrainingStateTests
{
    private static PolicyUpdater NewUpdater(int seed) => new(
        TestModels.Tiny("nano-qwen2", seed: seed),
        new AdamWOptions { WeightDecay = 0.1 },
        new LearningRateSchedule { Kind = ScheduleKind.Cosine, Peak = 2e-3, WarmupSteps = 3, TotalSteps = 20 },
        new PolicyLossOptions(),
        new UpdateOptions { Epochs = 2, MiniBatchRows = 2, MicroBatchTokens = 24 },
        shuffleSeed: 77);

    /// <summary>Rows for step s: fixed content, advantages that depend on the step.</summary>
    private static List<AdvantagedRow> StepRows(int vocab, int step) =>
        TrainingFixtures.MixedRows(vocab, seed: 10 + step).Select((r, i) =>
            new AdvantagedRow(r, Enumerable.Range(0, r.Turns).Select(t => (float)Math.Sin(step + i + t)).ToArray())).ToList();

    [Fact]
    public void Resume_ReproducesTheUninterruptedRunExactly()
    {
        using PolicyUpdater straight = NewUpdater(seed: 5);
        for (int step = 0; step < 4; step++)
        {
            straight.Update(StepRows(straight.Model.Config.VocabSize, step));
        }

        string root = TestModels.TempDir();
        using (PolicyUpdater first = NewUpdater(seed: 5))
        {
            for (int step = 0; step < 2; step++)
            {
                first.Update(StepRows(first.Model.Config.VocabSize, step));
            }
            TrainingCheckpoint.Save(root, 2, first, TestModels.Chars, new Dictionary<string, string> { ["campaign"] = "c1" });
        }
        // A new object, built from a different seed, restored from the checkpoint.
        using PolicyUpdater resumed = NewUpdater(seed: 99);
        (long savedStep, var metadata) = TrainingCheckpoint.Load(TrainingCheckpoint.Latest(root)!, resumed);
        Assert.Equal(2, savedStep);
        Assert.Equal("c1", metadata["campaign"]);
        for (int step = 2; step < 4; step++)
        {
            resumed.Update(StepRows(resumed.Model.Config.VocabSize, step));
        }

        Assert.Equal(straight.Optimizer.Steps, resumed.Optimizer.Steps);
        Assert.Equal(straight.Shuffle.State, resumed.Shuffle.State);
        var expected = straight.Model.state_dict();
        foreach ((string name, Tensor t) in resumed.Model.state_dict())
        {
            Assert.True(expected[name].eq(t).all().item<bool>(), $"{name} differs from the uninterrupted run");
        }
    }

    [Fact]
    public void Latest_IgnoresPartialFolders()
    {
        string root = TestModels.TempDir();
        using PolicyUpdater u = NewUpdater(seed: 1);
        TrainingCheckpoint.Save(root, 3, u);
        Directory.CreateDirectory(Path.Combine(root, TrainingCheckpoint.FolderName(7) + ".partial-abc"));
        TrainingCheckpoint.Save(root, 5, u);
        Assert.EndsWith(TrainingCheckpoint.FolderName(5), TrainingCheckpoint.Latest(root));
        var error = Assert.Throws<FileNotFoundException>(() => TrainingCheckpoint.Load(Path.Combine(root, TrainingCheckpoint.FolderName(7) + ".partial-abc"), u));
        Assert.Contains("trainer_state.json", error.Message);
    }

    [Fact]
    public void AdamW_MatchesTorchAdamW()
    {
        manual_seed(3);
        using Tensor init = randn(5, 4);
        var mine = new TorchSharp.Modules.Parameter(init.clone());
        var theirs = new TorchSharp.Modules.Parameter(init.clone());
        using var adam = new AdamW([("w", mine)], new AdamWOptions { WeightDecay = 0.05, DecayNormsAndBiases = true });
        var torchAdam = optim.AdamW([theirs], lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.05);
        for (int step = 0; step < 5; step++)
        {
            using Tensor target = randn(5, 4);
            foreach (var p in new[] { mine, theirs })
            {
                p.grad?.zero_();
                ((p - target).pow(2) * (step + 1)).sum().backward();
            }
            adam.Step(0.01);
            torchAdam.step();
        }
        Assert.True((mine - theirs).abs().max().item<float>() < 1e-6f);
    }

    [Fact]
    public void Schedules_GiveTheExpectedRates()
    {
        var warm = new LearningRateSchedule { Kind = ScheduleKind.LinearWarmup, Peak = 1.0, WarmupSteps = 4 };
        Assert.Equal([0.25, 0.5, 0.75, 1.0, 1.0], Enumerable.Range(0, 5).Select(s => warm.At(s)));
        var cosine = new LearningRateSchedule { Kind = ScheduleKind.Cosine, Peak = 1.0, WarmupSteps = 2, TotalSteps = 6, MinRatio = 0.1 };
        Assert.Equal(0.5, cosine.At(0), 9);
        Assert.Equal(1.0, cosine.At(2), 9);
        Assert.Equal(0.1 + 0.9 * 0.5, cosine.At(4), 9);
        Assert.Equal(0.1, cosine.At(6), 9);
        Assert.Equal(0.1, cosine.At(60), 9);
        Assert.Equal(3e-4, new LearningRateSchedule { Peak = 3e-4 }.At(1000));
        var error = Assert.Throws<ArgumentException>(() => new LearningRateSchedule { Kind = ScheduleKind.Cosine, Peak = -1, WarmupSteps = 5, TotalSteps = 5 }.Validate());
        Assert.Contains("learning rate must be positive", error.Message);
        Assert.Contains("total_steps (5) > warmup_steps (5)", error.Message);
    }

    [Fact]
    public void RowBuilder_TrainsTheTurnEndOnlyAfterNormalStops()
    {
        const int end = 2;
        var row = new TrajectoryRowBuilder("e", "meta", "g", end)
            .Context([1, 10, 11])
            .Turn([20, 21], [-0.5f, -0.25f], FinishReason.Stop)        // stop string: turn end appended and trained
            .Context([1, 12])
            .Turn([22, end], [-1f, -0.1f], FinishReason.Eos)            // sampled turn end: kept as sampled
            .Context([1, 13])
            .Turn([23, 24], [-2f, -3f], FinishReason.Length)            // truncated: turn end appended, not trained
            .Build([0, 0, 1]);
        Assert.Equal([1, 10, 11, 20, 21, end, 1, 12, 22, end, 1, 13, 23, 24, end], row.TokenIds);
        Assert.Equal([-1, -1, -1, 0, 0, 0, -1, -1, 1, 1, -1, -1, 2, 2, -1], row.TurnIndex);
        Assert.True(float.IsNaN(row.OldLogProbs[5]));
        Assert.Equal(-0.1f, row.OldLogProbs[9]);
        Assert.Equal(7, row.LossTokens);
        var error = Assert.Throws<ArgumentException>(() => new TrajectoryRowBuilder("e", "meta", "g", end).Context([1]).Turn([3], [-1f], FinishReason.Eos).Build([1, 2]));
        Assert.Contains("2 turn rewards for 1 turns", error.Message);
    }

    [Fact]
    public void RowBatching_KeepsPaddedSizeWithinTheBudget()
    {
        int[] lengths = [10, 3, 7, 7, 2, 12, 5];
        var batches = RowBatching.ByTokenBudget(lengths, 20);
        Assert.Equal(Enumerable.Range(0, lengths.Length), batches.SelectMany(b => b).Order());
        Assert.All(batches, b => Assert.True(b.Length == 1 || b.Length * b.Max(i => lengths[i]) <= 20));
        Assert.Single(RowBatching.ByTokenBudget([50], 20));
    }

    [Fact]
    public void RolePolicies_AlternateEveryKStepsStartingWithTheFirstRole()
    {
        using PolicyUpdater meta = NewUpdater(seed: 1), reasoner = NewUpdater(seed: 2);
        var policies = RolePolicies.Separate(new Dictionary<string, PolicyUpdater> { ["meta"] = meta, ["reasoner"] = reasoner }, UpdateSchedule.Alternating, switchEvery: 2, "meta", "reasoner");
        Assert.Equal(["meta", "meta", "reasoner", "reasoner", "meta"], Enumerable.Range(0, 5).Select(s => policies.LearningRoles(s).Single()));

        var rows = TrainingFixtures.MixedRows(meta.Model.Config.VocabSize).Select((r, i) => new AdvantagedRow(r with { Role = i % 2 == 0 ? "meta" : "reasoner" }, Enumerable.Repeat(i % 3 == 0 ? 1f : -1f, r.Turns).ToArray())).ToList();
        var frozen = reasoner.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var metrics = policies.Update(0, rows);
        Assert.Equal(["meta"], metrics.Keys);
        Assert.Equal(2, metrics["meta"].Rows);
        Assert.True(meta.Optimizer.Steps > 0);
        Assert.Equal(0, reasoner.Optimizer.Steps);
        Assert.All(reasoner.Model.state_dict(), kv => Assert.True(frozen[kv.Key].eq(kv.Value).all().item<bool>()));

        var simultaneous = RolePolicies.Separate(new Dictionary<string, PolicyUpdater> { ["meta"] = meta, ["reasoner"] = reasoner }, UpdateSchedule.Simultaneous);
        Assert.Equal(2, simultaneous.Update(0, rows).Count);
        Assert.True(reasoner.Optimizer.Steps > 0);

        using PolicyUpdater shared = NewUpdater(seed: 3);
        var sharedMetrics = RolePolicies.Shared(shared, "meta", "reasoner").Update(0, rows);
        Assert.Equal(4, sharedMetrics["meta"].Rows);
        Assert.Same(sharedMetrics["meta"], sharedMetrics["reasoner"]);
    }
}

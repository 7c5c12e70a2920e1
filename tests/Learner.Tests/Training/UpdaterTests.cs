using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests.Training;

public class UpdaterTests
{
    private static CausalLM Float64Model(int seed = 2)
    {
        var config = ModelPresets.Get("nano-qwen2", 40) with { HiddenSize = 16, IntermediateSize = 24, HeadDim = 4, NumLayers = 1 };
        var model = new CausalLM(config, CPU, ScalarType.Float64, seed);
        using var g = new Generator((ulong)seed + 1000, CPU);
        using (no_grad())
        {
            foreach (var p in model.parameters())
            {
                p.normal_(0, 0.3, g);   // larger weights than the default so that log-probs respond visibly
            }
        }
        return model;
    }

    private static List<AdvantagedRow> Advantaged(IReadOnlyList<TrajectoryRow> rows) =>
        rows.Select((r, i) => new AdvantagedRow(r, Enumerable.Range(0, r.Turns).Select(t => (float)((i % 2 == 0 ? 1 : -1) * (0.5 + 0.3 * t))).ToArray())).ToList();

    public static TheoryData<RatioLevel, LossAggregation, double, double> Variants => new()
    {
        { RatioLevel.Token, LossAggregation.Token, 0, 0 },
        { RatioLevel.Token, LossAggregation.Trajectory, 0, 0 },
        { RatioLevel.TurnArithmetic, LossAggregation.Trajectory, 0, 0 },
        { RatioLevel.TurnGeometric, LossAggregation.Trajectory, 0, 0 },
        { RatioLevel.TurnGeometric, LossAggregation.Turn, 0.1, 0.05 },
    };

    /// <summary>The analytic gradient of each loss variant agrees with central finite differences (float64).</summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void Gradient_MatchesFiniteDifferences(RatioLevel ratio, LossAggregation aggregation, double kl, double entropy)
    {
        using CausalLM model = Float64Model();
        using CausalLM reference = Float64Model(seed: 9);
        // Old log-probs off the current ones: some tokens inside the clip band, some outside (clipped, zero gradient).
        var rows = TrainingFixtures.WithOld(model, TrainingFixtures.MixedRows(40), (i, j) => (i + j) % 5 == 0 ? 0.6f : 0.05f * ((j % 3) - 1));
        var options = new PolicyLossOptions { Ratio = ratio, Aggregation = aggregation, KlCoefficient = kl, EntropyCoefficient = entropy };
        using var updater = new PolicyUpdater(model, loss: options, update: new UpdateOptions { MicroBatchTokens = 30 }, reference: reference);
        var data = Advantaged(rows);
        updater.AccumulateGradients(data);
        Parameter[] checkedParams = [model.get_parameter("model.layers.0.mlp.up_proj.weight")!, model.get_parameter("model.layers.0.self_attn.q_proj.bias")!, model.get_parameter("model.embed_tokens.weight")!];
        foreach (Parameter p in checkedParams)
        {
            double[] analytic = p.grad!.flatten().data<double>().ToArray();
            for (int k = 0; k < 6; k++)
            {
                long index = (k * 7919L) % p.NumberOfElements;
                const double h = 1e-6;
                double Perturbed(double delta)
                {
                    using (no_grad())
                    {
                        p.view(-1)[index].add_(delta);
                    }
                    double value = updater.AccumulateGradients(data);
                    using (no_grad())
                    {
                        p.view(-1)[index].sub_(delta);
                    }
                    return value;
                }
                double numeric = (Perturbed(h) - Perturbed(-h)) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[index]) <= 1e-6 + 1e-4 * Math.Abs(numeric),
                    $"{ratio}/{aggregation}: d loss / d {index} analytic {analytic[index]:E6} vs numeric {numeric:E6}");
            }
        }
    }

    /// <summary>Splitting a mini-batch into micro-batches leaves its gradient unchanged (float32).</summary>
    [Theory]
    [InlineData(LossAggregation.Token)]
    [InlineData(LossAggregation.Turn)]
    [InlineData(LossAggregation.Trajectory)]
    public void MiniBatchGradient_DoesNotDependOnMicroBatching(LossAggregation aggregation)
    {
        Dictionary<string, float[]> Gradients(int microTokens)
        {
            using CausalLM model = TestModels.Tiny("nano-qwen2", seed: 4);
            var rows = TrainingFixtures.WithOld(model, TrainingFixtures.MixedRows(model.Config.VocabSize), (i, j) => 0.1f * ((i + j) % 3 - 1));
            using var updater = new PolicyUpdater(model, loss: new PolicyLossOptions { Aggregation = aggregation }, update: new UpdateOptions { MicroBatchTokens = microTokens });
            updater.AccumulateGradients(Advantaged(rows));
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray());
        }
        var whole = Gradients(10_000);
        var split = Gradients(16);        // every row in its own micro-batch
        foreach ((string name, float[] g) in whole)
        {
            float scale = g.Max(Math.Abs) + 1e-12f;
            for (int i = 0; i < g.Length; i++)
            {
                Assert.True(Math.Abs(g[i] - split[name][i]) <= 1e-5f * scale, $"{name}[{i}]: {g[i]} vs {split[name][i]}");
            }
        }
    }

    /// <summary>Rows whose advantages are all zero are left out of the passes without changing the gradient.</summary>
    [Theory]
    [InlineData(LossAggregation.Token)]
    [InlineData(LossAggregation.Turn)]
    [InlineData(LossAggregation.Trajectory)]
    public void ZeroAdvantageRows_AreSkipped_WithTheSameGradient(LossAggregation aggregation)
    {
        (Dictionary<string, float[]> Grads, UpdateMetrics Metrics) Run(bool skip)
        {
            using CausalLM model = TestModels.Tiny("nano-qwen2", seed: 4);
            var rows = TrainingFixtures.WithOld(model, TrainingFixtures.MixedRows(model.Config.VocabSize), (i, j) => 0.1f * ((i + j) % 3 - 1));
            // Every other row gets zero advantages on all its turns, as in a group whose rewards were all equal.
            var data = Advantaged(rows).Select((r, i) => i % 2 == 1 ? r with { TurnAdvantages = new float[r.Row.Turns] } : r).ToList();
            var update = new UpdateOptions { MicroBatchTokens = 32, SkipZeroAdvantageRows = skip };
            using var updater = new PolicyUpdater(model, schedule: new LearningRateSchedule { Peak = 1e-3 },
                loss: new PolicyLossOptions { Aggregation = aggregation }, update: update);
            updater.AccumulateGradients(data);
            var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray());
            return (grads, updater.Update(data));
        }
        var (full, fullMetrics) = Run(skip: false);
        var (skipped, skippedMetrics) = Run(skip: true);
        Assert.Equal(0, fullMetrics.SkippedRows);
        Assert.True(skippedMetrics.SkippedRows > 0, "no row was skipped");
        foreach ((string name, float[] g) in full)
        {
            float scale = g.Max(Math.Abs) + 1e-12f;
            Assert.True(scale > 1e-9f, $"{name}: no gradient at all");
            for (int i = 0; i < g.Length; i++)
            {
                Assert.True(Math.Abs(g[i] - skipped[name][i]) <= 1e-5f * scale, $"{name}[{i}]: {g[i]} vs {skipped[name][i]}");
            }
        }
    }

    [Fact]
    public void ZeroAdvantageRows_AreKept_WhenTheLossHasAKlTerm()
    {
        using CausalLM model = TestModels.Tiny("nano-qwen2", seed: 4);
        using CausalLM reference = TestModels.Tiny("nano-qwen2", seed: 5);
        var rows = TrainingFixtures.MixedRows(model.Config.VocabSize);
        var data = Advantaged(rows).Select(r => r with { TurnAdvantages = new float[r.Row.Turns] }).ToList();
        using var updater = new PolicyUpdater(model, loss: new PolicyLossOptions { KlCoefficient = 0.1 }, reference: reference);
        UpdateMetrics m = updater.Update(data);
        Assert.Equal(0, m.SkippedRows);
        Assert.True(m.ReferenceKl > 0);
    }

    [Fact]
    public void Update_FillsMissingOldLogProbs_AndReportsMetrics()
    {
        using CausalLM model = TestModels.Tiny();
        var rows = TrainingFixtures.MixedRows(model.Config.VocabSize);      // all old log-probs missing: on-policy
        using var updater = new PolicyUpdater(model, schedule: new LearningRateSchedule { Peak = 1e-3 },
            update: new UpdateOptions { Epochs = 2, MiniBatchRows = 2 });
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        UpdateMetrics m = updater.Update(Advantaged(rows));
        Assert.Equal(4, m.OptimizerSteps);
        Assert.Equal(4, updater.Optimizer.Steps);
        Assert.InRange(m.RatioMean, 0.9, 1.1);
        Assert.True(m.GradNorm > 0 && m.Entropy > 0 && m.TokensPerSecond > 0);
        Assert.InRange(m.ClipFractionTokens, 0, 1);
        Assert.Equal(1e-3, m.LearningRate);
        // Every trainable parameter moved.
        Assert.All(model.named_parameters(), p => Assert.False(before[p.name].eq(p.parameter).all().item<bool>(), $"{p.name} did not change"));
    }

    [Fact]
    public void ReferenceModel_IsBuiltOnlyWhenTheKlCoefficientIsNonZero()
    {
        using CausalLM model = TestModels.Tiny();
        int built = 0;
        CausalLM Build()
        {
            built++;
            return TestModels.Tiny(seed: 8);
        }
        using (var without = new PolicyUpdater(model, null, null, new PolicyLossOptions(), null, Build))
        {
            Assert.Null(without.Reference);
        }
        Assert.Equal(0, built);
        using var with = new PolicyUpdater(model, null, null, new PolicyLossOptions { KlCoefficient = 0.01 }, null, Build);
        Assert.Equal(1, built);
        Assert.All(with.Reference!.parameters(), p => Assert.False(p.requires_grad));
        UpdateMetrics m = with.Update(Advantaged(TrainingFixtures.MixedRows(model.Config.VocabSize)));
        Assert.True(m.ReferenceKl > 0);
        Assert.Throws<ArgumentException>(() => new PolicyUpdater(model, loss: new PolicyLossOptions { KlCoefficient = 0.1 }));
    }

    [Fact]
    public void RecordedOldLogProbs_AgreeWithTheLearner()
    {
        using CausalLM model = TestModels.Tiny();
        var tok = TestModels.Chars;
        using var engine = new ContinuousBatcher(model, tok);
        var chat = new Tokenization.ChatTemplate(tok);
        int[] prompt = chat.Render([Tokenization.ChatMessage.User("2+2?")], true);
        var results = engine.Generate(Enumerable.Range(0, 4).Select(i => new GenerationRequest(prompt, new SamplingParams { MaxNewTokens = 6, Seed = (ulong)i, StopStrings = ["a"] })).ToList());
        var rows = results.Select((r, i) => new TrajectoryRowBuilder($"e{i}", "reasoner", "g", tok.TurnEndId).Context(prompt).Turn(r.TokenIds, r.LogProbs, r.FinishReason).BuildTerminal(i % 2)).ToList();
        using var updater = new PolicyUpdater(model, update: new UpdateOptions { RecomputeOldLogProbs = true });
        UpdateMetrics m = updater.Update(Advantages.Compute(rows, new AdvantageOptions()).Rows);
        Assert.InRange(m.OldLogProbDrift, 0, 1e-4);
    }

    /// <summary>
    /// mini_batches 2 keeps every episode's rows together: the update equals two plain updates, one per half of the
    /// episodes, for one of the ways of dealing four episodes into two halves (and is two optimizer steps).
    /// </summary>
    [Fact]
    public void MiniBatches_DealWholeEpisodesIntoOptimizerSteps()
    {
        List<TrajectoryRow> Rows(CausalLM model)
        {
            var mixed = TrainingFixtures.MixedRows(40);
            // A second (reasoner) row for two of the four episodes, so an episode spans rows.
            var extra = TrainingFixtures.MixedRows(40, seed: 8).Take(2).Select((r, i) => r with { EpisodeId = i == 0 ? "e0" : "e2", GroupId = i == 0 ? "g0" : "g1", Role = "reasoner" });
            return TrainingFixtures.WithOld(model, [.. mixed, .. extra], (i, j) => 0.02f * ((i + j) % 3 - 1));
        }
        var options = new PolicyLossOptions { Ratio = RatioLevel.TurnGeometric, Aggregation = LossAggregation.Trajectory };
        using CausalLM split = Float64Model();
        var rows = Advantaged(Rows(split));
        using (var updater = new PolicyUpdater(split, new AdamWOptions { WeightDecay = 0 }, new LearningRateSchedule { Peak = 1e-2 }, options,
            new UpdateOptions { MiniBatches = 2 }, shuffleSeed: 3))
        {
            Assert.Equal(2, updater.Update(rows).OptimizerSteps);
        }

        var matches = new List<string>();
        foreach (string[] first in new[] { new[] { "e0", "e1" }, ["e0", "e2"], ["e0", "e3"], ["e1", "e2"], ["e1", "e3"], ["e2", "e3"] })
        {
            using CausalLM manual = Float64Model();
            var mine = Advantaged(Rows(manual));
            using var updater = new PolicyUpdater(manual, new AdamWOptions { WeightDecay = 0 }, new LearningRateSchedule { Peak = 1e-2 }, options, new UpdateOptions());
            updater.Update([.. mine.Where(a => first.Contains(a.Row.EpisodeId))]);
            updater.Update([.. mine.Where(a => !first.Contains(a.Row.EpisodeId))]);
            bool same = split.named_parameters().Zip(manual.named_parameters()).All(p => p.First.parameter.allclose(p.Second.parameter, rtol: 1e-9, atol: 1e-12));
            if (same)
            {
                matches.Add(string.Join("+", first));
            }
        }
        Assert.Single(matches);
    }

    [Fact]
    public void MiniBatches_AndMiniBatchRowsTogether_AreRefused() =>
        Assert.Contains("cannot both be set", Assert.Throws<ArgumentException>(() => new UpdateOptions { MiniBatches = 2, MiniBatchRows = 8 }.Validate()).Message);
}

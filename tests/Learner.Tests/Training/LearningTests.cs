using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using ReMA.Learner.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests.Training;

public class LearningTests(ITestOutputHelper output)
{
    private static readonly CharTokenizer Tok = TestModels.Chars;
    private static readonly ChatTemplate Chat = new(Tok);

    /// <summary>
    /// A two-turn task with a verifiable reward: the agent answers, is asked again, answers again; each turn whose
    /// first character is a digit earns 0.5. Episodes roll out through the real engine; rows carry the sampled ids.
    /// </summary>
    private static (List<TrajectoryRow> Rows, double MeanReward) Rollout(ContinuousBatcher engine, int groups, int groupSize, ulong seed)
    {
        int[] first = Chat.Render([ChatMessage.User("Say a digit.")], addGenerationPrompt: true);
        int[] again = [.. Tok.Encode("\n"), .. Chat.Render([ChatMessage.User("Again.")], addGenerationPrompt: true)];
        int n = groups * groupSize;
        var builders = Enumerable.Range(0, n).Select(i => new TrajectoryRowBuilder($"ep{i}", "reasoner", $"g{i / groupSize}", Tok.TurnEndId).Context(first)).ToArray();
        var rewards = new double[n][];
        SamplingParams sampling = new() { MaxNewTokens = 2 };
        var turn1 = engine.Generate(Enumerable.Range(0, n).Select(i => new GenerationRequest(first, sampling with { Seed = seed * 1000 + (ulong)i })).ToList());
        for (int i = 0; i < n; i++)
        {
            builders[i].Turn(turn1[i].TokenIds, turn1[i].LogProbs, turn1[i].FinishReason).Context(again);
        }
        var prompts2 = builders.Select(b => b.Build([0]).TokenIds[..b.Length]).ToArray();
        var turn2 = engine.Generate(Enumerable.Range(0, n).Select(i => new GenerationRequest(prompts2[i], sampling with { Seed = seed * 1000 + 500 + (ulong)i })).ToList());
        var rows = new List<TrajectoryRow>();
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            builders[i].Turn(turn2[i].TokenIds, turn2[i].LogProbs, turn2[i].FinishReason);
            double r1 = StartsWithDigit(turn1[i].Text) ? 0.5 : 0, r2 = StartsWithDigit(turn2[i].Text) ? 0.5 : 0;
            rows.Add(builders[i].Build([r1, r2]));
            total += r1 + r2;
        }
        return (rows, total / n);
    }

    private static bool StartsWithDigit(string text) => text.Length > 0 && char.IsAsciiDigit(text[0]);

    [Fact]
    public void TurnLevelGrpo_LearnsAVerifiableTwoTurnTask()
    {
        using var model = new CausalLM(ModelPresets.Get("nano", Tok.VocabSize), seed: 11);
        model.eval();
        using var engine = new ContinuousBatcher(model, Tok);
        using var updater = new PolicyUpdater(model, new AdamWOptions { WeightDecay = 0 }, new LearningRateSchedule { Peak = 3e-3 },
            new PolicyLossOptions { Ratio = RatioLevel.TurnGeometric, Aggregation = LossAggregation.Trajectory },
            new UpdateOptions { Epochs = 1, MiniBatchRows = 32 }, shuffleSeed: 1);

        double initial = Rollout(engine, 8, 8, seed: 999).MeanReward;
        Assert.True(initial < 0.3, $"initial mean reward {initial:F3} should be low");
        double latest = initial;
        int step;
        for (step = 0; step < 60 && latest < 0.95; step++)
        {
            (List<TrajectoryRow> rows, double reward) = Rollout(engine, 8, 8, seed: (ulong)step);
            UpdateMetrics m = updater.Update(Advantages.Compute(rows, new AdvantageOptions()).Rows);
            engine.RefreshWeights();      // the model changed in place
            latest = reward;
            output.WriteLine($"step {step}: reward {reward:F3} loss {m.Loss:F4} clip(turn) {m.ClipFractionTurns:F3} entropy {m.Entropy:F3} drift {m.OldLogProbDrift:E1}");
        }
        double final = Rollout(engine, 8, 8, seed: 12345).MeanReward;
        output.WriteLine($"initial {initial:F3} -> final {final:F3} after {step} steps");
        Assert.True(final > 0.9, $"mean reward after {step} steps is {final:F3}, expected > 0.9");
    }

    [Fact]
    public void Sft_LossFallsAndTheModelReproducesTheDemonstrations()
    {
        (string Question, string Answer)[] demos = [("2+3?", "\\boxed{5}"), ("4*2?", "\\boxed{8}"), ("9-7?", "\\boxed{2}"), ("1+1?", "\\boxed{2}")];
        var rows = demos.Select((d, i) => SftData.Row(Chat, [ChatMessage.System("Solve."), ChatMessage.User(d.Question), ChatMessage.Assistant(d.Answer)], $"demo{i}")).ToList();
        using var model = new CausalLM(ModelPresets.Get("nano", Tok.VocabSize), seed: 5);
        using var trainer = new SftTrainer(model, schedule: new LearningRateSchedule { Peak = 3e-3 }, options: new SftOptions { MicroBatchTokens = 64 });
        double before = trainer.EvaluationLoss(rows);
        SftMetrics last = trainer.Step(rows);
        for (int step = 1; step < 150; step++)
        {
            last = trainer.Step(rows);
        }
        double after = trainer.EvaluationLoss(rows);
        output.WriteLine($"sft loss {before:F3} -> {after:F4} (last step {last.Loss:F4})");
        Assert.True(before > 3 && after < 0.05, $"loss {before} -> {after}");

        using var engine = new ContinuousBatcher(model, Tok);
        foreach (var (question, answer) in demos)
        {
            int[] prompt = Chat.Render([ChatMessage.System("Solve."), ChatMessage.User(question)], addGenerationPrompt: true);
            GenerationResult r = engine.Generate([new GenerationRequest(prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 20 })])[0];
            Assert.Equal(answer, r.Text);
            Assert.Equal(FinishReason.Eos, r.FinishReason);
            Assert.Equal(Tok.TurnEndId, r.TokenIds[^1]);
        }
    }

    [Fact]
    public void SftRows_MaskOnlyTheTrainedRolesContentAndTurnEnd()
    {
        TrajectoryRow row = SftData.Row(Chat, [ChatMessage.User("hi"), ChatMessage.Assistant("yo"), ChatMessage.User("ok"), ChatMessage.Assistant("k")], "d");
        Assert.Equal(Chat.Render([ChatMessage.User("hi"), ChatMessage.Assistant("yo"), ChatMessage.User("ok"), ChatMessage.Assistant("k")], false), row.TokenIds);
        string trained = Tok.Decode(row.TokenIds.Where((_, j) => row.LossMask[j]));
        Assert.Equal("yo<|im_end|>k<|im_end|>", trained);
        Assert.Equal(2, row.Turns);
    }
}

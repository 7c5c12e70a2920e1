using ReMA.Abstractions.Policy;
using ReMA.Grains.Episodes;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Tests;

/// <summary>
/// Plays scripted messages, turned into token ids by the real tokenizer and ended the way the engine ends them
/// (stop string found: cut there, kept or dropped; longer than the budget: cut, "length"; else the turn-end token).
/// It lets the protocol rules be checked message by message; the real engine is exercised below and in the grains.
/// </summary>
internal sealed class ScriptedGenerator(Dictionary<string, Queue<string>> scripts) : IRoleGenerator
{
    private static readonly CharTokenizer Tok = new();
    public List<(string Role, string Prompt, SamplingSpec Sampling)> Calls { get; } = [];

    public ChatTemplate Template(string role) => new(Tok);

    public Task<GenerateResponse> GenerateAsync(string role, int[] promptIds, SamplingSpec sampling)
    {
        Calls.Add((role, Tok.Decode(promptIds), sampling));
        string text = scripts[role].Dequeue();
        string finish = "eos";
        string? stop = null;
        int at = text.IndexOf(Roles.Finish, StringComparison.Ordinal);
        if (at >= 0)
        {
            stop = Roles.Finish;
            finish = "stop";
            text = text[..(at + Roles.Finish.Length)];
        }
        int[] ids = Tok.Encode(text);
        if (ids.Length > sampling.MaxNewTokens)
        {
            ids = ids[..sampling.MaxNewTokens];
            text = Tok.Decode(ids);
            finish = "length";
            stop = null;
        }
        else if (finish == "eos")
        {
            ids = [.. ids, Tok.TurnEndId];
        }
        string shown = stop is not null && !sampling.IncludeStopString ? text[..^Roles.Finish.Length] : text;
        return Task.FromResult(new GenerateResponse("", ids, ids.Select(_ => -1f).ToArray(), shown, finish, stop, promptIds.Length, 3, 3));
    }
}

public class EpisodeRunnerTests
{
    private static readonly ArithmeticTask Arithmetic = new(trainSize: 20, evalSize: 10);
    private static readonly Problem Problem = new("p1", "Compute 3+4*2.", "11", "test") { Metadata = new Dictionary<string, string> { ["expression"] = "3+4*2" } };

    private static ScriptedGenerator Script(string[] meta, string[] reasoner) =>
        new(new Dictionary<string, Queue<string>> { [Roles.Meta] = new(meta), [Roles.Reasoner] = new(reasoner) });

    [Fact]
    public async Task MultiTurn_EndsAfterTheReasonersReplyToFinish_AndRewardsBothRoles()
    {
        var gen = Script(["Next: 4*2", "Next: 3+8", "Confirmed. [FINISH] extra"], ["4*2=8", "3+8=11", "\\boxed{11}"]);
        var runner = new EpisodeRunner(Arithmetic, new EpisodeSettings(), gen);
        EpisodeResult r = await runner.RunAsync(Problem, "e1", "g1");
        Assert.Equal(FinishReasons.Finished, r.FinishReason);
        Assert.True(r.Correct);
        Assert.Equal(1.0, r.Rewards[Roles.Meta]);
        Assert.Equal(1.0, r.Rewards[Roles.Reasoner]);
        Assert.Equal(3, r.Rounds);
        Assert.Equal("Confirmed. [FINISH]", r.Transcript[4].Text);                // the meta message keeps the tag
        // Views: the reasoner's first user message holds question and instruction; the meta agent sees the reasoner's reply.
        Assert.Contains("<|im_start|>user\nQuestion:\nCompute 3+4*2.\n\nInstruction:\nNext: 4*2<|im_end|>", gen.Calls[1].Prompt);
        Assert.EndsWith("<|im_start|>user\n4*2=8<|im_end|>\n<|im_start|>assistant\n", gen.Calls[2].Prompt);
        Assert.True(gen.Calls[0].Sampling.IncludeStopString);
        Assert.False(gen.Calls[1].Sampling.IncludeStopString);
        // Rows: one per role, three turns each, the turn-end after the stopped meta turn trained.
        Assert.Equal(2, r.Rows.Count);
        var meta = r.Rows.Single(x => x.Role == Roles.Meta);
        Assert.Equal(3, meta.Turns);
        Assert.StartsWith(gen.Calls[4].Prompt, new CharTokenizer().Decode(meta.TokenIds));   // the row is the growing view
        Assert.Equal([0, 0, 1.0], meta.TurnRewards);
    }

    [Fact]
    public async Task MultiTurn_WrongAnswerOrNoFinishScoresZero()
    {
        var wrong = await new EpisodeRunner(Arithmetic, new EpisodeSettings(), Script(["[FINISH]"], ["\\boxed{12}"])).RunAsync(Problem, "e", "g");
        Assert.Equal(FinishReasons.Finished, wrong.FinishReason);
        Assert.Equal(0, wrong.Rewards[Roles.Meta]);
        var limit = await new EpisodeRunner(Arithmetic, new EpisodeSettings { MaxTurns = 2 }, Script(["go", "go"], ["\\boxed{11}", "\\boxed{11}"])).RunAsync(Problem, "e", "g");
        Assert.Equal(FinishReasons.MaxTurns, limit.FinishReason);
        Assert.True(limit.Correct);
        Assert.Equal(0, limit.Rewards[Roles.Reasoner]);         // correct but never finished: 0 by default
    }

    [Fact]
    public async Task MultiTurn_TruncationAndContextLimitsEndTheEpisode()
    {
        var truncated = await new EpisodeRunner(Arithmetic, new EpisodeSettings { MaxTokensPerTurn = 5 }, Script(["a very long plan"], ["x"])).RunAsync(Problem, "e", "g");
        Assert.Equal(FinishReasons.Truncated, truncated.FinishReason);
        var metaRow = truncated.Rows.Single(x => x.Role == Roles.Meta);
        Assert.Equal(5, metaRow.LossTokens);                     // the closing turn-end of a truncated turn is not trained
        Assert.DoesNotContain(truncated.Rows, x => x.Role == Roles.Reasoner);

        var kept = await new EpisodeRunner(Arithmetic, new EpisodeSettings { MaxTokensPerTurn = 5, StopWhenTruncated = false, MaxTurns = 1 }, Script(["a very long plan"], ["\\boxed{11}"])).RunAsync(Problem, "e", "g");
        Assert.Equal(FinishReasons.MaxTurns, kept.FinishReason);

        var context = await new EpisodeRunner(Arithmetic, new EpisodeSettings { MaxContextTokens = 120 }, Script(["Next: 4*2", "Next: 3+8"], [new string('x', 60), "y"])).RunAsync(Problem, "e", "g");
        Assert.Equal(FinishReasons.ContextExceeded, context.FinishReason);
        Assert.Equal(0, context.Rewards[Roles.Meta]);
    }

    [Fact]
    public async Task CompactView_ShowsTheCurrentExpressionAndMakesOneRowPerTurn()
    {
        var gen = Script(["Next: 4*2", "Next: 3+8", "[FINISH]"], ["4*2=8", "3+8=11", "\\boxed{11}"]);
        var r = await new EpisodeRunner(Arithmetic, new EpisodeSettings { View = ViewMode.Compact }, gen).RunAsync(Problem, "e", "g");
        Assert.Equal(FinishReasons.Finished, r.FinishReason);
        Assert.Contains("Current: 3+8\nLast: 4*2=8", gen.Calls[2].Prompt);
        Assert.Contains("Current: 11\nInstruction: [FINISH]", gen.Calls[5].Prompt);
        Assert.Equal(6, r.Rows.Count);
        Assert.All(r.Rows, row => Assert.Equal(1, row.Turns));
        Assert.All(r.Rows, row => Assert.Equal([1.0], row.TurnRewards));
    }

    [Theory]
    [InlineData(ViewMode.Full)]
    [InlineData(ViewMode.Compact)]
    public async Task MultiTurn_ChecksEachReasonerStep_IntoTheTranscriptAndTheReasonersRows(ViewMode view)
    {
        // 4*2 computed wrongly (9), then 3+9 right on the wrong state, then the answer (not a step): scores 0, 1, NaN.
        var gen = Script(["Next: 4*2", "Next: 3+9", "[FINISH]"], ["4*2=9", "3+9=12", "\\boxed{12}"]);
        var r = await new EpisodeRunner(Arithmetic, new EpisodeSettings { View = view }, gen).RunAsync(Problem, "e", "g");
        Assert.False(r.Correct);
        Assert.Equal([false, true, null], r.Transcript.Where(t => t.Role == Roles.Reasoner).Select(t => t.StepCorrect));
        Assert.All(r.Transcript.Where(t => t.Role == Roles.Meta), t => Assert.Null(t.StepCorrect));
        double[] scores = [.. r.Rows.Where(x => x.Role == Roles.Reasoner).SelectMany(x => x.StepScores!)];
        Assert.Equal(3, scores.Length);
        Assert.Equal(0.0, scores[0]);
        Assert.Equal(1.0, scores[1]);
        Assert.True(double.IsNaN(scores[2]));
        Assert.All(r.Rows.Where(x => x.Role == Roles.Meta), x => Assert.Null(x.StepScores));
        Assert.All(r.Rows, x => x.Validate());

        // An episode without a step (the meta finishes at once) carries no step scores at all.
        var direct = await new EpisodeRunner(Arithmetic, new EpisodeSettings { View = view }, Script(["[FINISH]"], ["\\boxed{11}"])).RunAsync(Problem, "e", "g");
        Assert.All(direct.Rows, x => Assert.Null(x.StepScores));

        // A step's metrics count the checked steps of its episodes (one right of two here), none when nothing was checked.
        var outcomes = new[] { EpisodeGrain.Outcome(r, 1), EpisodeGrain.Outcome(direct, 1) };
        Assert.Equal(0.5, Campaigns.Metrics.StepAccuracy(outcomes));
        Assert.Equal(0.5, Campaigns.Metrics.Of(0, 2, outcomes, [], 1, 1).StepAccuracy);
        Assert.Null(Campaigns.Metrics.StepAccuracy([outcomes[1]]));
    }

    [Fact]
    public async Task SingleTurnAndSingleAgentProtocols_UseTheirRewards()
    {
        var single = await new EpisodeRunner(Arithmetic, new EpisodeSettings { Protocol = Protocol.RemaSingleTurn }, Script(["Plan: multiply, then add."], ["4*2=8\n3+8=11\n\\boxed{12}"])).RunAsync(Problem, "e", "g");
        Assert.Equal(FinishReasons.Completed, single.FinishReason);
        Assert.Equal(-0.5, single.Rewards[Roles.Reasoner]);
        Assert.Equal(0, single.Rewards[Roles.Meta]);
        var leak = await new EpisodeRunner(Arithmetic, new EpisodeSettings { Protocol = Protocol.RemaSingleTurn }, Script(["The answer is 11."], ["\\boxed{11}"])).RunAsync(Problem, "e", "g");
        Assert.Equal(-1, leak.Rewards[Roles.Meta]);
        Assert.Equal(1, leak.Rewards[Roles.Reasoner]);
        var vrp = await new EpisodeRunner(Arithmetic, new EpisodeSettings { Protocol = Protocol.Vrp }, Script([], ["\\boxed{11}"])).RunAsync(Problem, "e", "g");
        Assert.Equal(1, vrp.Rewards[Roles.Reasoner]);
        Assert.Single(vrp.Rows);
    }

    [Theory]
    [InlineData(Protocol.Vrp)]
    [InlineData(Protocol.Mrp)]
    [InlineData(Protocol.RemaSingleTurn)]
    [InlineData(Protocol.RemaMultiTurn)]
    public async Task RealEngine_EpisodesRespectTheLimitsAndYieldValidRows(Protocol protocol)
    {
        var tok = new CharTokenizer();
        using var model = new CausalLM(ModelPresets.Get("nano", tok.VocabSize), seed: 3);
        using var engine = new GenerationEngine(model, tok);
        var gen = EngineRoleGenerator.Shared(engine, new ChatTemplate(tok), Roles.Meta, Roles.Reasoner);
        var settings = new EpisodeSettings { Protocol = protocol, MaxTurns = 3, MaxTokensPerTurn = 12, MaxContextTokens = 400, StopWhenTruncated = false, Sampling = new SamplingSpec(Seed: 5) };
        var runner = new EpisodeRunner(Arithmetic, settings, gen);
        EpisodeResult[] results = await Task.WhenAll(Arithmetic.Load("test").Take(6).Select((p, i) => runner.RunAsync(p, $"e{i}", "g")));
        foreach (EpisodeResult r in results)
        {
            Assert.InRange(r.Rounds, 1, 3);
            Assert.All(r.Transcript, t => Assert.InRange(t.Tokens, 1, 12));
            Assert.All(r.Rows, row => row.Validate());
            Assert.All(r.Rows, row => Assert.True(row.LossTokens >= row.Turns));
            Assert.Equal(Roles.Of(protocol).Order(), r.Rows.Select(x => x.Role).Distinct().Order());
        }
        // Seeds derive from (campaign seed, episode, role, round): a rerun reproduces the episode.
        EpisodeResult again = await runner.RunAsync(Arithmetic.Load("test")[0], "e0", "g");
        Assert.Equal(results[0].Transcript.Select(t => t.Text), again.Transcript.Select(t => t.Text));
    }
}

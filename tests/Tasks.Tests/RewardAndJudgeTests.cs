using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;
using ReMA.Tasks.Judge;
using R = ReMA.Tasks.Rewards.Rewards;

namespace ReMA.Tasks.Tests;

public class RewardAndJudgeTests
{
    private static readonly Judgement Right = new(true, "5", true);
    private static readonly Judgement WrongBoxed = new(false, "6", true);
    private static readonly Judgement NoAnswer = Judgement.Missing;

    [Fact]
    public void MultiTurn_NeedsBothACorrectAnswerAndFinish()
    {
        Assert.Equal(1, R.MultiTurn(Right, finishedWithFinish: true));
        Assert.Equal(0, R.MultiTurn(Right, finishedWithFinish: false));
        Assert.Equal(0, R.MultiTurn(WrongBoxed, finishedWithFinish: true));
    }

    [Fact]
    public void SingleTurn_ReasonerAndMetaRewards()
    {
        Assert.Equal(1, R.SingleTurnReasoner(Right));
        Assert.Equal(-0.5, R.SingleTurnReasoner(WrongBoxed));
        Assert.Equal(-1, R.SingleTurnReasoner(NoAnswer));
        Assert.Equal(2.0 / 3, R.SingleTurnMeta("Plan: multiply, then add.", [Right, Right, WrongBoxed]), 9);
        Assert.Equal(-1, R.SingleTurnMeta("Plan: it is \\boxed{5}", [Right]));
        Assert.Equal(-1, R.SingleTurnMeta("Multiply first. The answer is 5.", [Right]));
        Assert.Equal(-1, R.SingleTurnMeta("Final answer: 5", [Right]));
    }

    [Fact]
    public void Consistency_IsTheShareOfTheMostCommonAnswer()
    {
        Assert.Equal(0.5, R.Consistency([new(true, "5", true), new(true, "5", true), new(false, "6", true), NoAnswer]));
        Assert.Equal(0, R.Consistency([NoAnswer]));
    }

    [Fact]
    public void FormatChecks()
    {
        Assert.True(R.HasSingleBox("so \\boxed{5}"));
        Assert.False(R.HasSingleBox("\\boxed{5} or \\boxed{6}"));
        Assert.True(R.FinishIsWellPlaced("Looks right. [FINISH]"));
        Assert.True(R.FinishIsWellPlaced("Next: 3+4"));
        Assert.False(R.FinishIsWellPlaced("[FINISH] but also more"));
        Assert.False(R.FinishIsWellPlaced("[FINISH] [FINISH]"));
    }

    [Theory]
    [InlineData("Response A is right. [[A]]", "A")]
    [InlineData("[[B]]", "B")]
    [InlineData("[[A]] no wait [[B]]", null)]
    [InlineData("A is better", null)]
    [InlineData("[A]", null)]
    public void Verdicts_AreExactlyOneOfAOrB(string text, string? expected) => Assert.Equal(expected, JudgeVerdict.Parse(text));

    [Fact]
    public void JudgeTask_RewardsTheLabelAndSwapsPositions()
    {
        JudgeRow row = new("r1", "2+2?", "4", "5", "A");
        var task = new JudgeTask("judge", new Dictionary<string, IReadOnlyList<JudgeRow>> { ["test"] = [row] }, PositionSwap.Both);
        var problems = task.Load("test");
        Assert.Equal(2, problems.Count);
        Assert.Equal("A", problems[0].Answer);
        Assert.Equal("B", problems[1].Answer);
        Assert.Contains("[Response A]\n5", problems[1].Question);
        Assert.True(task.Judge(problems[1], "[[B]]").Correct);
        Judgement invalid = task.Judge(problems[0], "both good");
        Assert.False(invalid.Correct);
        Assert.False(invalid.HasAnswerFormat);
        Assert.Throws<ArgumentException>(() => new JudgeTask("j", new Dictionary<string, IReadOnlyList<JudgeRow>> { ["t"] = [row with { Label = "C" }] }));
    }

    [Fact]
    public void JudgeRows_LoadFromJsonlWithClearErrors()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllText(path, """
            {"id": "x", "question": "q", "response_a": "a", "response_b": "b", "label": "B"}
            {"id": "y", "question": "q2", "answer_a": "a2", "answer_b": "b2", "winner": "model_a"}
            """);
        var rows = JudgeTask.LoadJsonl(path);
        Assert.Equal(["B", "A"], rows.Select(r => r.Label));
        Assert.Equal("b2", rows[1].ResponseB);
        File.AppendAllText(path, "\n" + """{"id": "z", "question": "q3", "response_a": "a", "label": "A"}""");
        var error = Assert.Throws<InvalidDataException>(() => JudgeTask.LoadJsonl(path));
        Assert.Contains(":3: field 'response_b' is missing", error.Message);
    }

    [Fact]
    public void ArithmeticJudgeRows_HaveOneCorrectAndOneFlawedSolution()
    {
        var problems = new ArithmeticTask(trainSize: 40, evalSize: 10).Load("train");
        var rows = ArithmeticJudgeRows.From(problems, seed: 3);
        var task = new ArithmeticTask();
        Assert.Contains(rows, r => r.Label == "A");
        Assert.Contains(rows, r => r.Label == "B");
        for (int i = 0; i < rows.Count; i++)
        {
            string good = rows[i].Label == "A" ? rows[i].ResponseA : rows[i].ResponseB;
            string bad = rows[i].Label == "A" ? rows[i].ResponseB : rows[i].ResponseA;
            Assert.True(task.Judge(problems[i], good).Correct);
            Assert.False(task.Judge(problems[i], bad).Correct);
        }
        Assert.Equal(rows.Select(r => r.Label), ArithmeticJudgeRows.From(problems, seed: 3).Select(r => r.Label));
    }

    [Fact]
    public void Registry_CreatesTasksByNameAndReportsBadOptions()
    {
        var registry = new TaskRegistry().Register(ArithmeticTask.TaskName, ArithmeticTask.FromOptions);
        ITask task = registry.Create("arithmetic", new Dictionary<string, string> { ["max_operands"] = "3", ["eval_size"] = "20" });
        Assert.Equal(20, task.Load("test").Count);
        var unknown = Assert.Throws<ArgumentException>(() => registry.Create("nope"));
        Assert.Contains("registered tasks: arithmetic", unknown.Message);
        var bad = Assert.Throws<ArgumentException>(() => registry.Create("arithmetic", new Dictionary<string, string> { ["max_operands"] = "x", ["colour"] = "red" }));
        Assert.Contains("option 'max_operands' must be an integer (got 'x')", bad.Message);
        Assert.Contains("option 'colour' is not known", bad.Message);
    }

    [Fact]
    public void ArithmeticShortPrompts_AreOneLinersAndTheOptionIsChecked()
    {
        var registry = new TaskRegistry().Register(ArithmeticTask.TaskName, ArithmeticTask.FromOptions);
        ITask shortTask = registry.Create("arithmetic", new Dictionary<string, string> { ["prompts"] = "short" });
        string meta = shortTask.SystemPrompt(Protocol.RemaMultiTurn, Roles.Meta);
        Assert.Contains("[FINISH]", meta);
        Assert.True(meta.Length < 60);
        Assert.True(registry.Create("arithmetic").SystemPrompt(Protocol.RemaMultiTurn, Roles.Meta).Length > 200);
        var error = Assert.Throws<ArgumentException>(() => registry.Create("arithmetic", new Dictionary<string, string> { ["prompts"] = "tiny" }));
        Assert.Contains("option 'prompts' must be full, short or none (got 'tiny')", error.Message);
        ITask bare = registry.Create("arithmetic", new Dictionary<string, string> { ["prompts"] = "none" });
        Assert.Equal("", bare.SystemPrompt(Protocol.RemaMultiTurn, Roles.Meta));
    }

    [Theory]
    [InlineData("vrp", Protocol.Vrp)]
    [InlineData("rema-multi-turn", Protocol.RemaMultiTurn)]
    [InlineData("single_turn", Protocol.RemaSingleTurn)]
    public void Protocols_ParseAndHaveRolePrompts(string text, Protocol expected)
    {
        Protocol p = Roles.ParseProtocol(text);
        Assert.Equal(expected, p);
        Assert.All(Roles.Of(p), role => Assert.False(string.IsNullOrWhiteSpace(RolePrompts.For(p, role))));
        Assert.Contains("[FINISH]", RolePrompts.For(Protocol.RemaMultiTurn, Roles.Meta));
        Assert.Throws<ArgumentException>(() => RolePrompts.For(Protocol.Vrp, Roles.Meta));
    }
}

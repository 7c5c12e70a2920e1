using System.Globalization;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Tasks.Tests;

/// <summary>The task options behind the arithmetic-reference preset: step order, short turns, fresh problems.</summary>
public class ArithmeticReferenceSettingsTests
{
    private static ArithmeticTask Reference(int trainSize = 500, int evalSize = 300) => ArithmeticTask.FromOptions(new TaskOptions("arithmetic", new Dictionary<string, string>
    {
        ["min_operand"] = "0", ["parentheses_probability"] = "0", ["order"] = "multiplication-first", ["format"] = "short",
        ["problems"] = "fresh", ["train_size"] = trainSize.ToString(CultureInfo.InvariantCulture), ["eval_size"] = evalSize.ToString(CultureInfo.InvariantCulture),
    }));

    [Fact]
    public void MultiplicationFirst_ReducesEveryProductBeforeAnySum()
    {
        Assert.Equal(["2+3", "4*5", "5-20"], Expr.Parse("2+3-4*5").Trace().Select(t => t.Step.ToString()));
        Assert.Equal(["4*5", "2+3", "5-20"], Expr.Parse("2+3-4*5").Trace(multiplicationFirst: true).Select(t => t.Step.ToString()));
        Assert.Equal(["3*4", "12*5", "2+60"], Expr.Parse("2+3*4*5").Trace(multiplicationFirst: true).Select(t => t.Step.ToString()));
        Assert.Equal(["7*0", "1-2", "-1+0"], Expr.Parse("1-2+7*0").Trace(multiplicationFirst: true).Select(t => t.Step.ToString()));
    }

    [Fact]
    public void ReferenceOptions_DemonstrateBareOperationsInMultiplicationFirstOrder()
    {
        ArithmeticTask task = Reference();
        var problem = new Problem("p", "Compute 2+3-4*5.", "-15", "train") { Metadata = new Dictionary<string, string> { ["expression"] = "2+3-4*5" } };
        var turns = task.Demonstrate(problem, Protocol.RemaMultiTurn).Turns.Select(t => t.Text).ToList();
        Assert.Equal(["4*5", "4*5=20", "2+3", "2+3=5", "5-20", "5-20=-15", Roles.Finish, "\\boxed{-15}"], turns);
        // The environment reads the bare form and the labelled one alike.
        Assert.True(task.CheckInstruction("2+3-4*5", "4*5"));
        Assert.True(task.CheckInstruction("2+3-4*5", "Next: 2+3"));
        Assert.False(task.CheckInstruction("2+3-4*5", "3-4"));
        Assert.Equal("2+3-20", task.Advance("2+3-4*5", "4*5=20"));
    }

    [Fact]
    public void TerseFormat_ShortensTheCompactViews_AndKeepsShortTurns()
    {
        ArithmeticTask terse = ArithmeticTask.FromOptions(new TaskOptions("arithmetic", new Dictionary<string, string> { ["format"] = "terse", ["prompts"] = "none" }));
        Assert.Equal("7*3-2\nLast: -", terse.MetaView("7*3-2", "-"));
        Assert.Equal("21-2\nLast: 7*3=21", terse.MetaView("21-2", "7*3=21"));
        Assert.Equal("7*3-2\nDo: 7*3", terse.ReasonerView("7*3-2", "7*3"));
        var problem = new Problem("p", "Compute 7*3-2.", "19", "train") { Metadata = new Dictionary<string, string> { ["expression"] = "7*3-2" } };
        Assert.Equal("7*3", terse.Demonstrate(problem, Protocol.RemaMultiTurn).Turns[0].Text);
        // Other formats keep the labelled views (what every run before the option saw).
        IStatefulTask labelled = Reference();
        Assert.Equal("Current: 7*3-2\nLast: -", labelled.MetaView("7*3-2", "-"));
        Assert.Equal("Current: 7*3-2\nInstruction: 7*3", labelled.ReasonerView("7*3-2", "7*3"));
    }

    [Fact]
    public void FreshProblems_EveryStreamIsNewDeterministicAndNeverAnEvaluationQuestion()
    {
        ArithmeticTask task = Reference();
        Assert.True(task.FreshTraining);
        var a = task.DrawTraining(200, 7);
        Assert.Equal(a.Select(p => p.Question), Reference().DrawTraining(200, 7).Select(p => p.Question));
        Assert.NotEqual(a.Select(p => p.Question), task.DrawTraining(200, 8).Select(p => p.Question));
        Assert.Equal(a.Count, a.Select(p => p.Id).Distinct().Count());
        // The train split is stream 0 (what `rema` shows as the training split).
        Assert.Equal(task.Load("train").Select(p => p.Question), task.DrawTraining(500, 0).Select(p => p.Question));

        var test = task.Load("test");
        var validation = task.Load("validation");
        Assert.Equal(300, test.Count);
        Assert.Equal(300, validation.Count);
        Assert.Empty(test.Select(p => p.Question).Intersect(validation.Select(p => p.Question)));
        var training = Enumerable.Range(0, 20).SelectMany(s => task.DrawTraining(200, s)).Select(p => p.Question).ToHashSet();
        Assert.Empty(training.Intersect(test.Select(p => p.Question)));
        Assert.Empty(training.Intersect(validation.Select(p => p.Question)));

        foreach (Problem p in test.Concat(a))
        {
            Expr e = Expr.Parse(p.Metadata["expression"]);
            Assert.InRange(e.Operations + 1, 2, 4);
            Assert.DoesNotContain("(", p.Question);
            Assert.All(e.Trace(multiplicationFirst: true), t => Assert.InRange(t.Step.Evaluate(), -99, 99));
        }
        // Independent draws keep short expressions at their generator share (a third of draws have two operands; a
        // pool of distinct questions would hold only the few hundred that exist).
        double twoOperands = test.Count(p => Expr.Parse(p.Metadata["expression"]).Operations == 1) / (double)test.Count;
        Assert.InRange(twoOperands, 0.2, 0.5);
        Assert.True(test.Select(p => p.Question).Distinct().Count() < test.Count, "test keeps repeated questions");
        Assert.Contains(a, p => p.Question.Contains('0', StringComparison.Ordinal));
    }

    [Fact]
    public void PoolProblems_RefuseFreshDraws()
    {
        var task = new ArithmeticTask(trainSize: 50, evalSize: 10);
        Assert.False(task.FreshTraining);
        Assert.Contains("problems: fresh", Assert.Throws<InvalidOperationException>(() => task.DrawTraining(5, 0)).Message);
    }

    [Fact]
    public void BadChoices_AreNamedWithWhatIsAllowed()
    {
        var options = new TaskOptions("arithmetic", new Dictionary<string, string> { ["order"] = "rightmost", ["format"] = "tiny", ["problems"] = "new" });
        ArithmeticTask.FromOptions(options);
        string message = Assert.Throws<ArgumentException>(options.ThrowIfInvalid).Message;
        Assert.Contains("option 'order' must be leftmost or multiplication-first (got 'rightmost')", message);
        Assert.Contains("option 'format' must be labelled or short or terse (got 'tiny')", message);
        Assert.Contains("option 'problems' must be pool or fresh (got 'new')", message);
    }
}

using ReMA.Tasks.Verification;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Tasks.Tests;

public class ArithmeticTests
{
    [Theory]
    [InlineData("3+4*2", 11)]
    [InlineData("2*3*4-5", 19)]
    [InlineData("9-8-7", -6)]
    [InlineData("(1+2)*(3+4)", 21)]
    [InlineData("2*(3-(4+1))", -4)]
    [InlineData("-3*-2+1", 7)]
    [InlineData("7", 7)]
    public void Expression_EvaluatesWithPrecedenceAndParentheses(string text, long expected) =>
        Assert.Equal(expected, Expr.Parse(text).Evaluate());

    [Theory]
    [InlineData("3+4*2")]
    [InlineData("(1+2)*3")]
    [InlineData("9-(8-7)")]
    [InlineData("2*(3*4)")]
    [InlineData("1-2+3")]
    public void Expression_PrintsOnlyNeededParenthesesAndRoundTrips(string text)
    {
        Expr e = Expr.Parse(text);
        Assert.Equal(text, e.ToString());
        Assert.Equal(e, Expr.Parse(e.ToString()));
    }

    [Fact]
    public void Trace_AppliesOneOperationAtATimeInEvaluationOrder()
    {
        var trace = Expr.Parse("3+4*2-(1+1)").Trace();
        Assert.Equal(["4*2", "3+8", "1+1", "11-2"], trace.Select(t => t.Step.ToString()));
        Assert.Equal(["3+8-(1+1)", "11-(1+1)", "11-2", "9"], trace.Select(t => t.After.ToString()));
    }

    [Theory]
    [InlineData("3x4", "unexpected 'x' at position 1")]
    [InlineData("3+", "expected a number at position 2")]
    [InlineData("(3+4", "expected ')' at position 4")]
    public void Expression_BadInputIsNamed(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => Expr.Parse(text)).Message);

    [Fact]
    public void Task_SplitsAreDeterministicDisjointAndFollowTheirSettings()
    {
        var task = new ArithmeticTask(trainSize: 2000, evalSize: 200);
        var train = task.Load("train");
        Assert.Equal(train.Select(p => p.Question), new ArithmeticTask(trainSize: 2000, evalSize: 200).Load("train").Select(p => p.Question));
        var test = task.Load("test");
        Assert.Equal(200, test.Count);
        Assert.Empty(test.Select(p => p.Question).Intersect(train.Select(p => p.Question)));
        Assert.All(train, p => Assert.False(ArithmeticTask.IsEvalQuestion(p.Question)));
        foreach (Problem p in train.Concat(test))
        {
            Expr e = Expr.Parse(p.Metadata["expression"]);
            Assert.Equal(e.Evaluate().ToString(System.Globalization.CultureInfo.InvariantCulture), p.Answer);
            Assert.InRange(e.Operations + 1, 2, 4);
            Assert.All(e.Trace(), t => Assert.InRange(t.Step.Evaluate(), -99, 99));
            Assert.DoesNotContain("((", p.Question);
        }
        Assert.Contains(train, p => p.Question.Contains('('));
        // Validation: the test distribution, disjoint from train and from test, so settings can be chosen without test.
        var validation = task.Load("validation");
        Assert.Equal(200, validation.Count);
        Assert.Empty(validation.Select(p => p.Question).Intersect(test.Select(p => p.Question)));
        Assert.All(validation, p => Assert.True(ArithmeticTask.IsEvalQuestion(p.Question)));
        Assert.Equal("validation", validation[0].Split);
        Assert.Equal(validation.Select(p => p.Question), task.Load("validation").Select(p => p.Question));
        Assert.All(task.Load("ood-operands"), p => Assert.InRange(Expr.Parse(p.Metadata["expression"]).Operations + 1, 5, 6));
        Assert.All(task.Load("ood-large"), p => Assert.Matches(@"^Compute \(?\d\d", p.Question));
        Assert.Contains(task.Load("ood-nested"), p => ArithmeticProblems.Nesting(p.Question) == 2);
        Assert.All(train, p => Assert.InRange(ArithmeticProblems.Nesting(p.Question), 0, 1));
    }

    [Theory]
    [InlineData(Protocol.Vrp)]
    [InlineData(Protocol.Mrp)]
    [InlineData(Protocol.RemaSingleTurn)]
    [InlineData(Protocol.RemaMultiTurn)]
    public void Demonstrations_ReachTheAnswerAndFitACharacterVocabulary(Protocol protocol)
    {
        var task = new ArithmeticTask(trainSize: 50, evalSize: 10);
        foreach (Problem p in task.Load("train"))
        {
            Demonstration d = task.Demonstrate(p, protocol);
            Assert.Equal(Roles.Reasoner, d.Turns[^1].Role);
            Assert.Equal(p.Answer, AnswerExtraction.ExtractBoxed(d.Turns[^1].Text));
            Assert.True(task.Judge(p, d.Turns[^1].Text).Correct);
            Assert.All(d.Turns, t => Assert.All(t.Text, c => Assert.True(c == '\n' || (c >= ' ' && c <= '~'), $"character {(int)c}")));
            Assert.All(d.Turns.Where(t => t.Role == Roles.Meta), t => Assert.False(Rewards.Rewards.LeaksAnswer(t.Text)));
            if (protocol == Protocol.RemaMultiTurn)
            {
                Assert.Equal(Roles.Finish, d.Turns[^2].Text);
                // The environment, fed the reasoner's steps, walks the expression down to the answer.
                string state = task.InitialState(p);
                foreach (DemoTurn t in d.Turns.Where(t => t.Role == Roles.Reasoner).SkipLast(1))
                {
                    state = task.Advance(state, t.Text);
                }
                Assert.Equal(p.Answer, state);
            }
        }
    }

    [Fact]
    public void Advance_SubstitutesTheClaimedResultOfAMatchingOperation()
    {
        var task = new ArithmeticTask();
        Assert.Equal("3+8", task.Advance("3+4*2", "4*2=8"));
        Assert.Equal("3+9", task.Advance("3+4*2", "so 4 * 2 = 9"));        // a wrong value propagates
        Assert.Equal("3+4*2", task.Advance("3+4*2", "3+4=7"));           // not an operation of the state
        Assert.Equal("3+4*2", task.Advance("3+4*2", "no arithmetic"));
        Assert.Equal("(1+2)*6", task.Advance("(1+2)*(3+3)", "3+3=6"));
    }

    [Fact]
    public void CheckStep_JudgesTheOperationAdvanceWouldApply()
    {
        var task = new ArithmeticTask();
        Assert.True(task.CheckStep("3+4*2", "4*2=8"));
        Assert.True(task.CheckStep("(1+2)*(3+3)", "first 1+2=3"));
        Assert.True(task.CheckStep("-3+4", "-3+4=1"));                   // a negative operand
        Assert.False(task.CheckStep("3+4*2", "so 4 * 2 = 9"));          // wrong value
        Assert.False(task.CheckStep("3+4*2", "3+4=7"));                 // right arithmetic, but not an operation of the state
        Assert.False(task.CheckStep("3+4*2", "no arithmetic"));
        Assert.False(task.CheckStep("3+4*2", "4*2=99999999999999999999")); // a value no integer holds is not a step
        Assert.True(task.CheckStep("3+4*2", "4*2=9 no, 4*2=8"));         // the last claim counts, as in Advance
        Assert.Null(task.CheckStep("11", "11+0=11"));                   // nothing left to compute: no step was asked
        Assert.Null(task.CheckStep("3+", "3+1=4"));                     // an unreadable state
    }

    [Fact]
    public void Judge_ReadsTheLastBoxAsAnInteger()
    {
        var task = new ArithmeticTask();
        var p = new Problem("p", "Compute 3+4*2.", "11", "test");
        Assert.True(task.Judge(p, "4*2=8\n3+8=11\n\\boxed{11}").Correct);
        Assert.True(task.Judge(p, "\\boxed{ 11 }").Correct);
        Judgement wrong = task.Judge(p, "\\boxed{12}");
        Assert.False(wrong.Correct);
        Assert.True(wrong.HasAnswerFormat);
        Assert.False(task.Judge(p, "11").HasAnswerFormat);
    }

    [Fact]
    public void Settings_ReportEveryBadFieldAtOnce()
    {
        var error = Assert.Throws<ArgumentException>(() => new ArithmeticSettings { MinOperands = 1, MaxOperand = 0, ParenthesesProbability = 2 }.Validate());
        Assert.Contains("min_operands", error.Message);
        Assert.Contains("operand range", error.Message);
        Assert.Contains("parentheses_probability", error.Message);
    }
}

using ReMA.Tasks.Answers;
using ReMA.Tasks.Arithmetic;

namespace ReMA.Tasks.Tests;

public class ArithmeticTests
{
    [Theory]
    [InlineData("3+4*2", 11)]
    [InlineData("2*3*4-5", 19)]
    [InlineData("9-8-7", -6)]
    [InlineData("-3*-2+1", 7)]
    [InlineData("7", 7)]
    public void Expression_EvaluatesWithPrecedence(string text, long expected) =>
        Assert.Equal(expected, ArithmeticExpression.Parse(text).Evaluate());

    [Fact]
    public void Expression_StepsSubstituteOneResultAtATime()
    {
        var e = ArithmeticExpression.Parse("3+4*2-1");
        Assert.Equal(1, e.NextOperation());
        e = e.Step(e.NextOperation());
        Assert.Equal("3+8-1", e.ToString());
        e = e.Step(e.NextOperation());
        Assert.Equal("11-1", e.ToString());
        Assert.Equal("10", e.Step(0).ToString());
    }

    [Theory]
    [InlineData("3x4", "'x' at position 1 is not one of + - *")]
    [InlineData("3+x", "expected a number at position 2")]
    [InlineData("3+", "expected a number at position 2")]
    public void Expression_BadInputIsNamed(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => ArithmeticExpression.Parse(text)).Message);

    [Fact]
    public void Problems_AreDeterministicPerSeedAndRespectTheBounds()
    {
        var settings = new ArithmeticSettings();
        var a = ArithmeticProblems.Generate(settings, 5).Take(200).ToList();
        var b = ArithmeticProblems.Generate(settings, 5).Take(200).ToList();
        Assert.Equal(a.Select(p => p.Question), b.Select(p => p.Question));
        Assert.NotEqual(a.Select(p => p.Question), ArithmeticProblems.Generate(settings, 6).Take(200).Select(p => p.Question));
        foreach (ArithmeticProblem p in a)
        {
            Assert.InRange(p.Expression.Operands.Count, 2, 4);
            Assert.All(p.Expression.Operands, v => Assert.InRange(v, 1, 9));
            Assert.Equal(ArithmeticExpression.Parse(p.Expression.ToString()).Evaluate(), p.Answer);
            Assert.InRange(p.Answer, -99, 99);
        }
    }

    [Fact]
    public void Settings_ReportEveryBadFieldAtOnce()
    {
        var error = Assert.Throws<ArgumentException>(() => new ArithmeticSettings { MinOperands = 1, MaxOperand = 0 }.Validate());
        Assert.Contains("min_operands", error.Message);
        Assert.Contains("max_operand must", error.Message);
    }

    [Theory]
    [InlineData("so the answer is \\boxed{42}.", "42")]
    [InlineData("\\boxed{1} then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}")]
    [InlineData("\\boxed {7}", "7")]
    [InlineData("\\boxed{3} and an unfinished \\boxed{4", "3")]
    [InlineData("no box here", null)]
    public void Boxed_ExtractsTheLastCompleteBox(string text, string? expected) => Assert.Equal(expected, BoxedAnswer.ExtractLast(text));

    [Theory]
    [InlineData("\\boxed{11}", 1.0)]
    [InlineData("\\boxed{ 11 }", 1.0)]
    [InlineData("\\boxed{12}", 0.0)]
    [InlineData("11", 0.0)]
    public void Reward_IsOneForTheCorrectBoxedValue(string message, double expected)
    {
        var problem = new ArithmeticProblem("p", ArithmeticExpression.Parse("3+4*2"), 11);
        Assert.Equal(expected, ArithmeticReward.Score(problem, message));
    }
}

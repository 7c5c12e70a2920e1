using ReMA.Tasks.Verification;
namespace ReMA.Tasks.Tests.Verification;

public sealed class AnswerExtractionTests
{
    [Theory]
    [InlineData("so $\\boxed{5}$.", "5")]
    [InlineData("first \\boxed{1} then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}")]
    [InlineData("nested \\boxed{\\left(3, \\frac{\\pi}{2}\\right)} done", "\\left(3, \\frac{\\pi}{2}\\right)")]
    [InlineData("set \\boxed{\\{1,2\\}}", "\\{1,2\\}")]
    [InlineData("deep \\boxed{{a}{{b}}}", "{a}{{b}}")]
    [InlineData("framed \\fbox{7}", "7")]
    [InlineData("brace-less $\\boxed 5$", "5")]
    [InlineData("brace-less \\boxed 42.", "42")]
    [InlineData("\\fbox{1} and later \\boxed{2}", "2")]
    public void ExtractBoxed_ReturnsLastBoxContent(string text, string expected) =>
        Assert.Equal(expected, AnswerExtraction.ExtractBoxed(text));

    [Theory]
    [InlineData("no box here")]
    [InlineData("unbalanced \\boxed{1 + {2}")]
    [InlineData("\\boxed")]
    [InlineData("\\boxedx{3}")]
    public void ExtractBoxed_ReturnsNullWithoutACompleteBox(string text) =>
        Assert.Null(AnswerExtraction.ExtractBoxed(text));

    [Theory]
    [InlineData("We compute things.\nThe answer is 42", "42")]
    [InlineData("Final answer: 42", "42")]
    [InlineData("work\nanswer: $x=3$.", "x=3")]
    [InlineData("The answer is 1.\nOn reflection, the answer is 2.", "2")]
    [InlineData("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", "\\frac{1}{2}")]
    [InlineData("**Final Answer:** **17**", "17")]
    public void ExtractFinalAnswerLine_ReadsTheLastAnswerLine(string text, string expected) =>
        Assert.Equal(expected, AnswerExtraction.ExtractFinalAnswerLine(text));

    [Fact]
    public void ExtractFinalAnswerLine_ReturnsNullWithoutAnAnswerLine() =>
        Assert.Null(AnswerExtraction.ExtractFinalAnswerLine("I answered nothing useful."));

    [Fact]
    public void Extract_PrefersTheBoxAndFallsBackOnlyWhenAsked()
    {
        Assert.Equal("3", AnswerExtraction.Extract("The answer is 4. \\boxed{3}", fallbackToFinalLine: true));
        Assert.Equal("4", AnswerExtraction.Extract("The answer is 4.", fallbackToFinalLine: true));
        Assert.Null(AnswerExtraction.Extract("The answer is 4.", fallbackToFinalLine: false));
    }
}

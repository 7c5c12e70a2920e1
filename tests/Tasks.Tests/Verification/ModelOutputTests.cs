using ReMA.Tasks.Verification;

namespace ReMA.Tasks.Tests.Verification;

/// <summary>
/// Answers as language models write them (issue 21): every case is graded as a whole response against a gold answer
/// with the lenient extraction, and each equal case has a near miss that must stay unequal.
/// </summary>
public sealed class ModelOutputTests
{
    private static GradeResult Grade(string gold, string response) => MathVerifier.Grade(gold, response);

    private static void AssertVerdict(bool expected, string gold, string response)
    {
        GradeResult result = Grade(gold, response);
        Assert.True(result.Verdict.Equivalent == expected,
            $"gold '{gold}', response '{response}': expected {(expected ? "equal" : "unequal")}, got method {result.Verdict.Method} "
            + $"(extracted [{result.Prediction?.Rule}] '{result.Prediction?.Text}', normalised '{result.Verdict.GoldNormalized}' | '{result.Verdict.PredictionNormalized}')");
    }

    [Theory]
    [InlineData("9", "Answer $ 9 $", true)]
    [InlineData("9", "Answer $ 8 $", false)]
    [InlineData("34", "Final Answer: The largest $n$ is 34.", true)]
    [InlineData("34", "Final Answer: The largest $n$ is 35.", false)]
    [InlineData("x \\le 2", "Thus $x <= 2$ is our answer.", true)]
    [InlineData("x \\le 2", "Thus $x < 2$ is our answer.", false)]
    [InlineData("\\frac{3}{4}", "Adding the parts, the total is $\\frac{3}{4}$.", true)]
    [InlineData("\\frac{3}{4}", "Adding the parts, the total is $\\frac{4}{3}$.", false)]
    [InlineData("17", "Therefore, Tom has 17 apples.", true)]
    [InlineData("17", "Therefore, Tom has 71 apples.", false)]
    [InlineData("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "Multiplying out, we get $\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}$", true)]
    [InlineData("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "Multiplying out, we get $\\begin{pmatrix} 1 & 2 \\\\ 3 & 5 \\end{pmatrix}$", false)]
    [InlineData("Monday", "Monday", true)]
    [InlineData("Monday", "Tuesday", false)]
    [InlineData("5", "The answer is $5$ when $n = 3$.", true)]
    [InlineData("3", "The answer is $5$ when $n = 3$.", false)]
    [InlineData("10", "The answer is 10, which is 2 more than 8.", true)]
    [InlineData("8", "The answer is 10, which is 2 more than 8.", false)]
    [InlineData("5", "The answer is 5, not 7.", true)]
    [InlineData("34", "Final Answer: The largest $n$ is 34, which is even.", true)]
    [InlineData("12", "First \\boxed{12}, then \\boxed{1", false)]
    [InlineData("5", "Reading pages 3-5 took long, so 5.", true)]
    [InlineData("-5", "Reading pages 3-5 took long.", false)]
    [InlineData("\\$36", "Putting everything together, the final answer is $\\$36$.", true)]
    [InlineData("\\$36", "Putting everything together, the final answer is $\\$63$.", false)]
    [InlineData("\\text{(B)}", "Comparing all five options, the correct choice is **(B)**.", true)]
    [InlineData("\\text{(B)}", "Comparing all five options, the correct choice is **(C)**.", false)]
    public void UnboxedAnswers_AreFoundInProse(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("1,2,3", "The roots are \\boxed{1},\\boxed{2},\\boxed{3}.", true)]
    [InlineData("\\{1,2,3\\}", "So $\\boxed{3}$, $\\boxed{1}$ and $\\boxed{2}$", true)]
    [InlineData("1,2,3", "The roots are \\boxed{1},\\boxed{2},\\boxed{4}.", false)]
    [InlineData("1,2", "\\boxed{1}\\boxed{2}", true)]
    [InlineData("12", "\\boxed{1}\\boxed{2}", false)]
    [InlineData("5", "First guess \\boxed{3}. After checking, the answer is \\boxed{5}.", true)]
    [InlineData("-2, 5", "The roots are $x = \\boxed{-2}$ and $x = \\boxed{5}$.", true)]
    [InlineData("-2, 5", "The roots are $x = \\boxed{-2}$ and $x = \\boxed{6}$.", false)]
    [InlineData("-1, 4", "The solutions are $x = -1$ and $x = 4$.", true)]
    [InlineData("-1, 4", "The solutions are $x = -1$ and $x = 5$.", false)]
    [InlineData("2, 3, 5, 7", "The primes below ten are 2, 3, 5, and 7.", true)]
    [InlineData("2, 3, 5, 7", "The primes below ten are 2, 3, 5, and 9.", false)]
    public void SeveralBoxes_AreAList(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("1.22", "1,22", true)]
    [InlineData("0.111", "0,111", true)]
    [InlineData("111", "0,111", false)]
    [InlineData("1.22", "1,23", false)]
    [InlineData("32349", "32,\\!349", true)]
    [InlineData("32349", "32,\\!348", false)]
    [InlineData("3500", "3,500", true)]
    [InlineData("3.5", "3,500", false)]
    [InlineData("2.75", "The average is 2,75.", true)]
    [InlineData("2.75", "The average is 2,57.", false)]
    [InlineData("1.5", "The solutions are $x = 1$ and $x = 5$.", false)]
    [InlineData("1.5", "\\boxed{1}, \\boxed{5}", false)]
    [InlineData("1.5", "1 or 5", false)]
    [InlineData("1.5", "So $t = 1{,}5$ hours.", true)]
    [InlineData("1.5", "So $t = 1{,}6$ hours.", false)]
    public void DecimalCommas_ReadAsTheirNumber(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("28\\%", "28 percent", true)]
    [InlineData("28\\%", "28 pct", true)]
    [InlineData("28\\%", "28 percentage", true)]
    [InlineData("28\\%", "The share is 28 per cent.", true)]
    [InlineData("28\\%", "27 percent", false)]
    [InlineData("0.28", "28 percent", true)]
    public void PercentWords_AreAPercentSign(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("x \\leq 5", "5 \\geq x", true)]
    [InlineData("x \\leq 5", "5 > x", false)]
    [InlineData("x < 1", "-x > -1", true)]
    [InlineData("x < 1", "-x < -1", false)]
    [InlineData("x \\geq 5", "x >= 5", true)]
    [InlineData("x \\geq 5", "x \\geqslant 6", false)]
    [InlineData("(-793, 10)", "-793 < a < 10", true)]
    [InlineData("(-793, 10)", "-793 \\le a < 10", false)]
    [InlineData("x \\in [-2,7]", "-2 \\le x \\le 7", true)]
    [InlineData("x \\in [-2,7]", "-2 \\le x \\le 8", false)]
    [InlineData("(3, \\infty)", "x > 3", true)]
    [InlineData("(-\\infty, 1) \\cup (3, \\infty)", "x < 1 or x > 3", true)]
    [InlineData("(-\\infty, 1) \\cup (3, \\infty)", "x < 1 or x \\ge 3", false)]
    [InlineData("x \\le 5", "y \\le 5", false)]
    [InlineData("x < 2", "|x| < 2", false)]
    [InlineData("x > 1", "|2x+1| > 3", false)]
    [InlineData("x \\in (-\\infty, 5]", "y \\le 5", false)]
    [InlineData("x \\in (-\\infty, 5]", "x \\le 5", true)]
    public void Inequalities_CompareAsTheSetsTheyDescribe(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("11", "x = 5+5+1 = 7 = 11", true)]
    [InlineData("11", "x = 5+5+1 = 11 = 12", false)]
    [InlineData("11", "x \\approx 11", true)]
    [InlineData("11", "x \\approx 12", false)]
    [InlineData("7", "$f(2) = 2^2 + 3 = 7$", true)]
    [InlineData("7", "$f(2) = 2^2 + 3 = 8$", false)]
    [InlineData("3.14", "\\approx 3.14", true)]
    [InlineData("12", "The total is $3 \\times 4 = 12$.", true)]
    [InlineData("12", "The total is $3 \\times 4 = 13$.", false)]
    [InlineData("3.14", "The area is about $\\pi \\approx 3.14$.", true)]
    [InlineData("3", "$\\alpha = 3$", true)]
    [InlineData("100\\pi", "$A = \\pi r^2 = \\pi \\cdot 10^2 = 100\\pi \\approx 314.16$", true)]
    [InlineData("100\\pi", "$A = \\pi r^2 = \\pi \\cdot 10^2 = 10\\pi \\approx 31.42$", false)]
    [InlineData("\\sqrt{2}", "$$\\sqrt{2} \\approx 1.414$$", true)]
    [InlineData("\\begin{pmatrix} -5 & 2 \\\\ 3 & -1 \\end{pmatrix}", "Therefore $\\mathbf{A}^{-1} = \\left[\\begin{array}{rr} -5 & 2 \\\\ 3 & -1 \\end{array}\\right]$.", true)]
    [InlineData("\\begin{pmatrix} -5 & 2 \\\\ 3 & -1 \\end{pmatrix}", "Therefore $\\mathbf{A}^{-1} = \\left[\\begin{array}{rr} -5 & 2 \\\\ 3 & 1 \\end{array}\\right]$.", false)]
    public void ChainsAndApproximations_TakeTheLastValue(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("(3,2)", "(p,q)=(3,2)", true)]
    [InlineData("(3,2)", "(p,q)=(2,3)", false)]
    [InlineData("7:32", "S:T=7:32", true)]
    [InlineData("7:32", "S:T=32:7", false)]
    [InlineData("2:1", "AE:EC = 2:1", true)]
    [InlineData("2:1", "AE:EC = 1:2", false)]
    [InlineData("(5,2),(7,2)", "p=5,q=2;p=7,q=2", true)]
    [InlineData("(5,2),(7,2)", "q=2,p=5;q=2,p=7", false)]   // not in alphabetical order: which tuple order is meant is unknown
    [InlineData("(2,3)", "m = 3, b = 2", false)]
    [InlineData("(2,3)", "m = 2, b = 3", false)]
    [InlineData("(x,y) = (2,3)", "(y,x) = (2,3)", false)]
    [InlineData("(5,2),(7,2)", "p=2,q=5;p=2,q=7", false)]
    [InlineData("(3,4)", "a=3, b=4", true)]
    [InlineData("(3,4)", "b=3, a=4", false)]
    [InlineData("(3, -1)", "Solving the system gives x=3, y=-1.", true)]
    [InlineData("(3, -1)", "Solving the system gives y=3, x=-1.", false)]
    [InlineData("(-1, 3)", "Solving the system gives y=3, x=-1.", false)]
    [InlineData("(2, 3), (-2, -3)", "$(x, y) = (2, 3)$; $(x, y) = (-2, -3)$", true)]
    [InlineData("(2, 3), (-2, -3)", "$(x, y) = (2, 3)$; $(x, y) = (-2, 3)$", false)]
    [InlineData("(2, 5)", "**Answer:** $a = 2$ and $b = 5$.", true)]
    [InlineData("(2, 5)", "**Answer:** $a = 5$ and $b = 2$.", false)]
    public void LabelledAnswers_LoseTheirLabels(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("x = 4", "The equation of the line is $x = 4$.", true)]
    [InlineData("x = 4", "The equation of the line is $y = 4$.", false)]
    [InlineData("4", "The equation of the line is $y = 4$.", true)]
    [InlineData("2x+4y-3=0", "y=-\\frac12x+\\frac34", true)]
    [InlineData("2x+4y-3=0", "y=-\\frac12x+\\frac14", false)]
    [InlineData("y = 2x+1", "x = \\frac{y-1}{2}", true)]
    [InlineData("y = 2x+1", "2x - y + 1 = 0", true)]
    [InlineData("y = 2x+1", "2x - y - 1 = 0", false)]
    [InlineData("2\\pi r", "2r\\pi", true)]
    [InlineData("2\\pi r", "2r^2\\pi", false)]
    public void EquationsAsAnswers_CompareTheirSolutionSets(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("1, 2, 3", "1; 2; 3", true)]
    [InlineData("1, 2, 3", "1; 2; 4", false)]
    [InlineData("\\{1,2\\}", "\\{1,1,2\\}", true)]
    [InlineData("\\{1,2\\}", "\\{1,1,3\\}", false)]
    [InlineData("(7,11),(11,7)", "(11,7) or (7,11)", true)]
    [InlineData("(7,11),(11,7)", "(11,7) or (7,12)", false)]
    [InlineData("\\{3, 5\\}", "3, 5", true)]
    [InlineData("\\{3, 5\\}", "3, 5, 7", false)]
    [InlineData("1, 1, 2", "\\{1, 2\\}", false)]   // a double root listed twice is not the set
    [InlineData("-1, 3", "\\{3, -1, 3\\}", true)]
    [InlineData("-1, 4", "$x_1 = -1, x_2 = 4$", true)]
    [InlineData("-1, 4", "$x_1 = -1, x_2 = 3$", false)]
    [InlineData("2, 4, 6", "$n$ can be 2 or 4 or 6.", true)]
    [InlineData("2, 4, 6", "$n$ can be 2 or 4 or 8.", false)]
    [InlineData("(-\\infty, \\infty)", "$x \\in \\mathbb{R}$", true)]
    [InlineData("(0, \\infty)", "$x \\in \\mathbb{R}$", false)]
    [InlineData("6a^2b", "6ba^2", true)]
    [InlineData("6a^2b", "6b^2a", false)]
    public void ListsAndSets_IgnoreSeparatorsOrderAndRepeats(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\left[\\begin{array}{cc}1&2\\\\3&4\\end{array}\\right]", true)]
    [InlineData("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\left[\\begin{array}{cc}1&2\\\\4&3\\end{array}\\right]", false)]
    [InlineData("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", true)]
    public void Matrices_CompareTheirEntries(string gold, string response, bool equal) => AssertVerdict(equal, gold, response);

    [Theory]
    [InlineData("The answer is 42.", "answer-phrase", "42")]
    [InlineData("$\\boxed{1}$ and $\\boxed{2}$", "boxes", "1, 2")]
    [InlineData("So \\boxed{7}", "box", "7")]
    [InlineData("x \\le 5", "whole", "x \\le 5")]
    [InlineData("Adding gives $\\frac{1}{2}$ in the end", "math-span", "\\frac{1}{2}")]
    [InlineData("Adding gives seven halves, or 3.5 in decimals", "last-number", "3.5")]
    public void Extraction_NamesTheRuleThatFoundTheAnswer(string response, string rule, string text)
    {
        ExtractedAnswer? extracted = AnswerExtraction.ExtractFinal(response, ExtractionMode.Lenient);
        Assert.Equal((rule, text), (extracted?.Rule, extracted?.Text));
    }

    [Fact]
    public void BoxedMode_ReadsOnlyBoxes_AndProseWithoutAnAnswerGivesNone()
    {
        Assert.Null(AnswerExtraction.ExtractFinal("The answer is 42.", ExtractionMode.Boxed));
        Assert.Equal("42", AnswerExtraction.ExtractFinal("so \\boxed{42}", ExtractionMode.Boxed)?.Text);
        Assert.Null(AnswerExtraction.ExtractFinal("I do not know how to solve this problem.", ExtractionMode.Lenient));
        GradeResult none = MathVerifier.Grade("42", "I do not know how to solve this problem.");
        Assert.Equal(("no-answer", false), (none.Verdict.Method, none.Verdict.Equivalent));
    }

    [Fact]
    public void GoldSolutions_AreExtractedLikePredictions()
    {
        GradeResult result = Grade("We add the two parts and get a total of $\\boxed{\\frac{3}{4}}$.", "0.75");
        Assert.True(result.Verdict.Equivalent);
        Assert.Equal(("box", "\\frac{3}{4}"), (result.Gold.Rule, result.Gold.Text));
        GradeResult prose = Grade("Adding both sides we find that the final answer is 12.", "12");
        Assert.Equal(("answer-phrase", "12"), (prose.Gold.Rule, prose.Gold.Text));
        Assert.Equal("whole", Grade("\\text{(B)}", "(B)").Gold.Rule);
    }
}

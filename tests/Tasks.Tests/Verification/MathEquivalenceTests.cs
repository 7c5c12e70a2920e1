using ReMA.Tasks.Verification;
namespace ReMA.Tasks.Tests.Verification;

public sealed class MathEquivalenceTests
{
    [Theory]
    [InlineData("2", "2.0")]
    [InlineData("2", "2.000")]
    [InlineData("-7", "-7")]
    [InlineData("\\frac{1}{2}", "1/2")]
    [InlineData("\\frac{1}{2}", "0.5")]
    [InlineData("0.5", "\\frac{1}{2}")]
    [InlineData("\\frac{1}{2}", "\\dfrac12")]
    [InlineData("-\\frac{3}{8}", "\\frac{-3}{8}")]
    [InlineData("2\\frac{1}{2}", "2.5")]
    [InlineData("3\\ \\frac{1}{4}", "3.25")]
    [InlineData("\\frac{639}{40}", "15\\frac{39}{40}")]
    [InlineData("\\frac{1}{3}", "0.3333333")]
    [InlineData("50\\%", "0.5")]
    [InlineData("50\\%", "50")]
    [InlineData("0.5", "50%")]
    [InlineData("1500", "1.5\\times10^{3}")]
    [InlineData("1500", "1.5e3")]
    [InlineData("1500", "1.5 \\times 10^3")]
    [InlineData("\\frac{\\sqrt{2}}{2}", "\\sqrt{2}/2")]
    [InlineData("\\frac{\\sqrt2}{2}", "\\frac{1}{\\sqrt{2}}")]
    [InlineData("\\frac{\\pi}{2}", "\\pi/2")]
    [InlineData("2\\pi", "6.283185307")]
    [InlineData("3\\sqrt{13}", "\\sqrt{117}")]
    [InlineData("\\sqrt[3]{-8}", "-2")]
    [InlineData("x^2+2x+1", "(x+1)^2")]
    [InlineData("2x", "x+x")]
    [InlineData("(a+5)(b+2)", "ab+2a+5b+10")]
    [InlineData("x(x+1)", "x^2+x")]
    [InlineData("\\cot x", "\\frac{\\cos x}{\\sin x}")]
    [InlineData("6 - 5i", "-5i+6")]
    [InlineData("2\\cdot3", "6")]
    [InlineData("(1,2]", "(1, 2]")]
    [InlineData("(-\\infty, 3)", "(-\\infty,3)")]
    [InlineData("(0,9) \\cup (9,36)", "(9,36)\\cup(0,9)")]
    [InlineData("(1,2)", "(1,2)")]
    [InlineData("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi/2)")]
    [InlineData("\\{1,2\\}", "\\{2,1\\}")]
    [InlineData("1, 2", "2, 1")]
    [InlineData("1,-2", "x=-2 \\text{ or } x=1")]
    [InlineData("1 \\pm \\sqrt{19}", "1-\\sqrt{19}, 1+\\sqrt{19}")]
    [InlineData("\\{1\\pm\\sqrt{5},-2\\}", "-2, 1+\\sqrt5, 1-\\sqrt5")]
    [InlineData("(6,31,-1)", "6, 31, -1")]
    [InlineData("y=2x+1", "y=1+2x")]
    [InlineData("a=2, b=3", "b = 3, a = 2")]
    [InlineData("x+y=1", "2x+2y=2")]
    [InlineData("y=2x+1", "2x+1=y")]
    [InlineData("x=3", "3")]
    [InlineData("5x - 7y + 11z + 4 = 0", "-5x+7y-11z-4=0")]
    [InlineData("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}")]
    [InlineData("\\begin{pmatrix} -1/3 \\\\ 2/3 \\end{pmatrix}", "\\begin{pmatrix} -\\frac{1}{3} \\\\ \\frac{2}{3} \\end{pmatrix}")]
    [InlineData("(A)", "A")]
    [InlineData("\\text{(A)}", "(A)")]
    [InlineData("\\text{Monday}", "Monday")]
    [InlineData("\\text{east}", "East")]
    [InlineData("90^\\circ", "90")]
    [InlineData("10,\\!080", "10080")]
    [InlineData("\\$18.90", "18.9")]
    [InlineData("52_8", "52_{8}")]
    public void Check_Agrees(string gold, string prediction)
    {
        Verdict verdict = MathEquivalence.Check(gold, prediction);
        Assert.True(verdict.Equivalent, $"{gold} vs {prediction}: {verdict}");
        Assert.False(verdict.TimedOut);
    }

    [Theory]
    [InlineData("2", "2.0001")]
    [InlineData("1000000", "1000001")]
    [InlineData("\\frac{1}{2}", "2")]
    [InlineData("1/2", "2")]
    [InlineData("\\frac{1}{3}", "0.333")]
    [InlineData("50\\%", "5")]
    [InlineData("50", "0.5")]
    [InlineData("2\\pi", "6.2832")]
    [InlineData("\\sqrt{2}", "1.414")]
    [InlineData("x^2", "x^3")]
    [InlineData("2x", "2y")]
    [InlineData("x", "X")]
    [InlineData("(1,2)", "(2,1)")]
    [InlineData("[1,2]", "(1,2)")]
    [InlineData("(1,2]", "(1,2)")]
    [InlineData("\\{1,2\\}", "\\{1,3\\}")]
    [InlineData("1, 2", "1, 2, 3")]
    [InlineData("x=3", "x=4")]
    [InlineData("y=2x+1", "y=2x-1")]
    [InlineData("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}")]
    [InlineData("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "(1,2)")]
    [InlineData("a=2, b=3", "a=3, b=2")]
    [InlineData("A", "B")]
    [InlineData("(A)", "(C)")]
    [InlineData("\\text{Monday}", "Tuesday")]
    [InlineData("3", "")]
    [InlineData("52_8", "52")]
    public void Check_Differs(string gold, string prediction)
    {
        Verdict verdict = MathEquivalence.Check(gold, prediction);
        Assert.False(verdict.Equivalent, $"{gold} vs {prediction}: {verdict}");
    }

    [Fact]
    public void Check_ReportsNormalisedFormsAndMethod()
    {
        Verdict verdict = MathEquivalence.Check("\\dfrac{1}{2}", "0.50");
        Assert.Equal(new Verdict(true, false, "\\frac{1}{2}", "0.5", "numeric"), verdict);
    }

    [Fact]
    public void Grade_UsesTheLastBoxOrTheWholeResponse()
    {
        Assert.True(MathVerifier.Grade("\\frac{1}{2}", "First \\boxed{1}, finally $\\boxed{0.5}$.").Verdict.Equivalent);
        Assert.True(MathVerifier.Grade("42", "42").Verdict.Equivalent);
        Assert.False(MathVerifier.Grade("42", "I think \\boxed{41}").Verdict.Equivalent);
    }
}

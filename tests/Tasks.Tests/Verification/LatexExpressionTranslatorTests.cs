using ReMA.Tasks.Verification;
namespace ReMA.Tasks.Tests.Verification;

public sealed class LatexExpressionTranslatorTests
{
    [Theory]
    [InlineData("2x", "2.0*v_x")]
    [InlineData("x(x+1)", "v_x*(v_x+1.0)")]
    [InlineData("(a+5)(b+2)", "(v_a+5.0)*(v_b+2.0)")]
    [InlineData("x^2", "v_x**(2.0)")]
    [InlineData("\\frac{1}{2}", "((1.0)/(2.0))")]
    [InlineData("\\sqrt{x}", "Sqrt(v_x)")]
    [InlineData("\\sqrt[3]{x}", "(Sign(v_x)*Pow(Abs(v_x),1.0/(3.0)))")]
    [InlineData("2\\pi", "2.0*(3.141592653589793)")]
    [InlineData("2\\cdot3", "2.0*3.0")]
    [InlineData("2\\frac{1}{2}", "(2.0+(1.0/2.0))")]
    [InlineData("\\sin^2 x", "(Sin(v_x))**(2.0)")]
    [InlineData("\\log_2 8", "Log(8.0,2.0)")]
    [InlineData("|x-1|", "Abs(v_x-1.0)")]
    [InlineData("a_1+\\theta", "v_a_1+g_theta")]
    [InlineData("1.5e3", "1.5e3")]
    public void TryTranslate_WritesNCalcSource(string latex, string expected) =>
        Assert.Equal(expected, LatexExpressionTranslator.TryTranslate(latex)?.Text);

    [Theory]
    [InlineData("Monday")]
    [InlineData("1,2")]
    [InlineData("x<3")]
    [InlineData("\\infty")]
    [InlineData("\\frac{1}")]
    [InlineData("")]
    public void TryTranslate_RefusesWhatIsNotAScalarExpression(string latex) =>
        Assert.Null(LatexExpressionTranslator.TryTranslate(latex));

    [Theory]
    [InlineData("12345678901+1", true)]
    [InlineData("2^{10}-\\frac{1}{3}", true)]
    [InlineData("\\sqrt{2}", false)]
    [InlineData("0.5", false)]
    [InlineData("2^{1/2}", false)]
    public void TryTranslate_MarksExactRationalArithmetic(string latex, bool exact) =>
        Assert.Equal(exact, LatexExpressionTranslator.TryTranslate(latex)?.IsExact);
}

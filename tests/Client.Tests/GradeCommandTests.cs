namespace ReMA.Client.Tests;

public class GradeCommandTests
{
    [Fact]
    public void Grade_PrintsOneVerdictPerLineInOrder()
    {
        var input = new StringReader(string.Join("\n",
            "\\frac{1}{2}\t0.5",
            "2\t2.0001",
            "\\{1,2\\}\t\\{2,1\\}",
            "(1,2)\t(2,1)",
            "42\tSo the total is \\boxed{42} dollars.",
            "missing tab",
            "5\tthe answer: \\boxed{6}"));
        var output = new StringWriter();
        var errors = new StringWriter();
        int code = GradeCommand.Run(input, output, errors, explain: false, "stdin");
        Assert.Equal(["1", "0", "1", "0", "1", "0", "0"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("stdin:6: expected 'gold<TAB>prediction'", errors.ToString());
        Assert.Equal(1, code);
    }

    [Fact]
    public void Grade_ExplainShowsTheNormalisedForms()
    {
        var output = new StringWriter();
        int code = GradeCommand.Run(new StringReader("\\dfrac{1}{2}\t$0.50$"), output, TextWriter.Null, explain: true, "f.tsv");
        Assert.Equal(0, code);
        string line = output.ToString().Trim();
        Assert.StartsWith("1\tgold=\\frac{1}{2}\tprediction=0.5\tmethod=", line);
    }
}

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
    public void Grade_ExplainShowsWhatWasExtractedFromEachSide_AndTheNormalisedForms()
    {
        var output = new StringWriter();
        int code = GradeCommand.Run(new StringReader(string.Join("\n",
            "\\dfrac{1}{2}\t$0.50$",
            "28\\%\tAfter the discount, the share is 28 percent.",
            "We add both parts and the total is $\\boxed{7}$.\tThe answer is 7.",
            "x \\le 5\tI am not sure.")), output, TextWriter.Null, explain: true, "f.tsv");
        Assert.Equal(0, code);
        string[] lines = output.ToString().Trim().Split('\n');
        Assert.Equal("1\tgold[whole]=\\dfrac{1}{2}\tprediction[whole]=$0.50$\tnormalised=\\frac{1}{2} | 0.5\tmethod=numeric", lines[0]);
        Assert.StartsWith("1\tgold[whole]=28\\%\tprediction[last-number]=28", lines[1]);
        Assert.StartsWith("1\tgold[box]=7\tprediction[answer-phrase]=7\t", lines[2]);
        Assert.StartsWith("0\tgold[whole]=x \\le 5\tprediction[none]=\t", lines[3]);
        Assert.EndsWith("method=no-answer", lines[3]);
    }

    [Fact]
    public void Grade_BoxedExtraction_GradesOnlyBoxes()
    {
        var output = new StringWriter();
        GradeCommand.Run(new StringReader("7\tThe answer is 7.\n7\tso \\boxed{7}"), output, TextWriter.Null, explain: false, "f.tsv", ReMA.Tasks.Verification.ExtractionMode.Boxed);
        Assert.Equal(["0", "1"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}

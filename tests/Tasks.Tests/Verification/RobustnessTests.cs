using ReMA.Tasks.Verification;
using ReMA.Tasks.Datasets;
using System.Diagnostics;
using System.Text;

namespace ReMA.Tasks.Tests.Verification;

public sealed class RobustnessTests
{
    [Fact]
    public void Check_StopsWaitingAtTheTimeLimit()
    {
        IEnumerable<int> range = Enumerable.Range(1, 60);
        string left = string.Join(", ", range.Select(i => $"x^{{{i}}}+\\sqrt{{{i}}}"));
        string right = string.Join(", ", range.Reverse().Select(i => $"\\sqrt{{{i}}}+x^{{{i}}}"));
        // The comparison takes about 100 ms. On a loaded machine the OS may not run the waiting thread again until the
        // worker has finished, and the finished result is then returned; so the limit gets a few tries, and one of
        // them must stop waiting.
        var tries = new List<(Verdict Verdict, long Ms)>();
        for (int attempt = 0; attempt < 5 && !(tries.Count > 0 && tries[^1].Verdict.TimedOut); attempt++)
        {
            var clock = Stopwatch.StartNew();
            Verdict v = MathEquivalence.Check(left, right, TimeSpan.FromMilliseconds(5));
            tries.Add((v, clock.ElapsedMilliseconds));
        }
        (Verdict verdict, long ms) = tries[^1];
        Assert.True(verdict.TimedOut, string.Join("; ", tries.Select(t => $"{t.Verdict.Method} after {t.Ms} ms")));
        Assert.False(verdict.Equivalent);
        Assert.True(ms < 1000, $"took {ms} ms");
        Assert.True(MathEquivalence.Check(left, right).Equivalent, "with the default limit the same check completes and agrees");
    }

    [Theory]
    [InlineData(1500, '(', ')')]
    [InlineData(900, '{', '}')]
    public void Check_DeeplyNestedInputReturnsQuickly(int depth, char open, char close)
    {
        string nested = new string(open, depth) + "1" + new string(close, depth);
        var clock = Stopwatch.StartNew();
        Verdict verdict = MathEquivalence.Check(nested, "2");
        Assert.False(verdict.Equivalent);
        Assert.True(clock.ElapsedMilliseconds < 2500, $"took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Check_ManyParallelCallersNeverTimeOut()
    {
        string[] answers = ["\\frac{1}{2}", "0.5", "x^2+2x+1", "(x+1)^2", "(1,2]", "\\{1,2\\}", "2,1", "42", "\\sqrt{2}/2", "y=2x+1"];
        int timeouts = 0;
        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 32 }, k =>
        {
            if (MathEquivalence.Check(answers[k % answers.Length], answers[(k / answers.Length) % answers.Length]).TimedOut)
            {
                Interlocked.Increment(ref timeouts);
            }
        });
        Assert.Equal(0, timeouts);
    }

    [Fact]
    public void Check_RefusesOverlongInputAtOnce()
    {
        string huge = string.Concat(Enumerable.Repeat("x+", 50_000)) + "1";
        Verdict verdict = MathEquivalence.Check(huge, huge);
        Assert.False(verdict.Equivalent);
        Assert.Equal("too-long", verdict.Method);
    }

    [Fact]
    public void Check_HugeExponentsDoNotHang()
    {
        Verdict verdict = MathEquivalence.Check("10^{10^{10^{10}}}", "1e99999999");
        Assert.False(verdict.TimedOut);
    }

    [Fact]
    public void EveryEntryPoint_NeverThrowsOnRandomJunk()
    {
        const string alphabet = "0123456789xyzabAB+-*/^_=,.;:()[]{}|\\$%&! \n\tfracsqrtpileftrightboxedtextcdotinfty#@~'\"<>";
        string[] fragments = ["\\frac", "\\sqrt", "\\boxed{", "\\left(", "\\right)", "\\{", "\\}", "\\pm", "\\cup", "\\begin{pmatrix}", "\\end{pmatrix}", "\\\\", "\\text{", "^{", "_{", "\\pi", "e", "1e5", "\\infty"];
        var random = new Random(12345);
        for (int n = 0; n < 1000; n++)
        {
            var sb = new StringBuilder();
            int length = random.Next(0, 80);
            for (int k = 0; k < length; k++)
            {
                sb.Append(random.Next(4) == 0 ? fragments[random.Next(fragments.Length)] : alphabet[random.Next(alphabet.Length)].ToString());
            }

            string junk = sb.ToString();
            string other = n % 2 == 0 ? junk : AnswerNormalizer.Normalize(junk);
            _ = AnswerExtraction.Extract(junk, fallbackToFinalLine: true);
            _ = DatasetLoader.Gsm8kAnswer(junk);
            Verdict verdict = MathEquivalence.Check(junk, other);
            Assert.NotNull(verdict.Method);
            _ = MathVerifier.Grade(junk, junk);
        }
    }
}

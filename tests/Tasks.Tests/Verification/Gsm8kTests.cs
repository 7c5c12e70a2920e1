using ReMA.Tasks.Verification;
using ReMA.Tasks.Datasets;
using System.Globalization;

namespace ReMA.Tasks.Tests.Verification;

public sealed class Gsm8kTests
{
    [Theory]
    [InlineData("She makes 9 * 2 = $<<9*2=18>>18.\n#### 18", "18")]
    [InlineData("Total\n#### 1,234", "1234")]
    [InlineData("#### -3", "-3")]
    public void ExtractGsm8kAnswer_ReadsTheFinalNumber(string answer, string expected) =>
        Assert.Equal(expected, DatasetLoader.Gsm8kAnswer(answer));

    [Fact]
    public void ExtractGsm8kAnswer_ReturnsNullWithoutMarker() => Assert.Null(DatasetLoader.Gsm8kAnswer("no marker"));

    [Fact]
    public void EveryReferenceAnswer_MatchesItsFormattedVariants()
    {
        var rows = TestData.ReadJsonLines(Path.Combine("gsm8k", "test.jsonl"));
        Assert.Equal(1319, rows.Count);
        var failures = new List<string>();
        foreach (var row in rows)
        {
            string? answer = DatasetLoader.Gsm8kAnswer(row.Field("answer"));
            Assert.NotNull(answer);
            foreach (string variant in Variants(answer))
            {
                Verdict verdict = MathEquivalence.Check(answer, variant);
                if (!verdict.Equivalent)
                {
                    failures.Add($"{answer} vs {variant}: {verdict}");
                }
            }

            if (!MathVerifier.Grade(answer, $"So the total is $\\boxed{{{Grouped(answer)}}}$.").Verdict.Equivalent)
            {
                failures.Add($"{answer} graded against a boxed response");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    private static IEnumerable<string> Variants(string answer)
    {
        yield return answer;
        yield return Grouped(answer);
        yield return $"\\${Grouped(answer)}";
        yield return $"${answer}$";
        yield return $"{answer} dollars";
        yield return answer.Contains('.', StringComparison.Ordinal) ? answer + "0" : answer + ".00";
        yield return $"\\text{{{answer}}}";
    }

    private static string Grouped(string answer) =>
        decimal.TryParse(answer, NumberStyles.Number, CultureInfo.InvariantCulture, out decimal value) && !answer.Contains('.', StringComparison.Ordinal)
            ? value.ToString("#,0", CultureInfo.InvariantCulture)
            : answer;
}

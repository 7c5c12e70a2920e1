using ReMA.Tasks.Verification;
using System.Globalization;
using System.Text.RegularExpressions;
using NCalc;

namespace ReMA.Tasks.Tests.Verification;

/// <summary>
/// Real-data checks beyond the identity of MATH-500's boxed and reference answers: every distinct reference answer of
/// MATH-500 and every distinct boxed answer of the full MATH test set must match reformatted spellings of itself,
/// must not match near misses of itself, and must rarely match other answers.
/// </summary>
public sealed partial class ReferenceAnswerVariantTests
{
    public static TheoryData<string> DataSets => ["math500", "math_test"];

    [Theory]
    [MemberData(nameof(DataSets))]
    public void ReferenceAnswers_MatchTheirReformattedSpellings(string dataSet)
    {
        var failures = new List<string>();
        foreach (string answer in Answers(dataSet))
        {
            foreach (string variant in Reformatted(answer))
            {
                Verdict verdict = MathEquivalence.Check(answer, variant);
                if (!verdict.Equivalent)
                {
                    failures.Add($"[{answer}] vs [{variant}]: {verdict}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
    }

    [Theory]
    [MemberData(nameof(DataSets))]
    public void ReferenceAnswers_RejectNearMisses(string dataSet)
    {
        var failures = new List<string>();
        int checkedCount = 0;
        foreach (string answer in Answers(dataSet))
        {
            foreach (string nearMiss in NearMisses(answer))
            {
                checkedCount++;
                Verdict verdict = MathEquivalence.Check(answer, nearMiss);
                if (verdict.Equivalent)
                {
                    failures.Add($"[{answer}] vs [{nearMiss}]: {verdict}");
                }
            }
        }

        Assert.True(checkedCount > 300, $"only {checkedCount} near misses were generated");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
    }

    [Fact]
    public void DifferentAnswersOfTheFullMathTestSet_AreAlmostNeverJudgedEquivalent()
    {
        List<string> answers = Answers("math_test");
        string[] normalized = [.. answers.Select(a => AnswerNormalizer.Normalize(a))];
        int pairs = 0;
        var matches = new List<string>();
        for (int i = 0; i < answers.Count; i++)
        {
            for (int step = 1; step <= 10; step++)
            {
                int j = (i + step) % answers.Count;
                if (normalized[i] == normalized[j])
                {
                    continue;
                }

                pairs++;
                if (MathEquivalence.Check(answers[i], answers[j]).Equivalent)
                {
                    matches.Add($"[{answers[i]}] ~ [{answers[j]}]");
                }
            }
        }

        Assert.True(pairs > 10_000, $"only {pairs} pairs");
        Assert.True(matches.Count * 1000 <= pairs, $"{matches.Count} of {pairs} pairs matched:\n{string.Join("\n", matches.Take(30))}");
    }

    private static List<string> Answers(string dataSet)
    {
        List<System.Text.Json.JsonElement> rows = TestData.ReadJsonLines(Path.Combine(dataSet, "test.jsonl"));
        IEnumerable<string?> answers = dataSet == "math500"
            ? rows.Select(row => row.Field("answer"))
            : rows.Select(row => AnswerExtraction.ExtractBoxed(row.Field("solution")));
        return [.. answers.OfType<string>().Distinct()];
    }

    private static IEnumerable<string> Reformatted(string answer)
    {
        yield return $"${answer}$";
        yield return $"\\boxed{{{answer}}}";
        yield return answer.Replace("\\frac", "\\dfrac", StringComparison.Ordinal);
        yield return OperatorSpacing().Replace(answer, " $1 ");
        yield return $"{{{answer}}}";
        if (!answer.Contains('=', StringComparison.Ordinal) && AnswerCollection.Parse(AnswerNormalizer.Normalize(answer)).Kind == CollectionKind.Scalar)
        {
            yield return $"x = {answer}";
        }

        if (ConstantValue(answer) is { } value)
        {
            yield return value.ToString("G12", CultureInfo.InvariantCulture);
        }
    }

    private static IEnumerable<string> NearMisses(string answer)
    {
        string normalized = AnswerNormalizer.Normalize(answer);
        if (ConstantValue(answer) is { } value && value != 0)
        {
            yield return (value * (1 + 1e-4)).ToString("G12", CultureInfo.InvariantCulture);
            yield return $"{normalized}+1";
            yield return $"2({normalized})";
        }
        else if (LatexExpressionTranslator.TryTranslate(normalized) is { Variables.Count: > 0 })
        {
            yield return $"{normalized}+1";
            yield return $"({normalized})^2";
        }

        AnswerCollection collection = AnswerCollection.Parse(normalized);
        if (collection.Kind == CollectionKind.Ordered && collection.Items[0] != collection.Items[1])
        {
            string rest = string.Join(",", collection.Items.Skip(2).Prepend(collection.Items[0]).Prepend(collection.Items[1]));
            yield return $"{collection.Brackets[0]}{rest}{collection.Brackets[1]}";
            yield return $"{(collection.Brackets[0] == '(' ? '[' : '(')}{string.Join(",", collection.Items)}{collection.Brackets[1]}";
        }
    }

    private static double? ConstantValue(string answer)
    {
        TranslatedExpression? translated = LatexExpressionTranslator.TryTranslate(AnswerNormalizer.Normalize(answer));
        if (translated is null || translated.Variables.Count > 0)
        {
            return null;
        }

        double value = Convert.ToDouble(new Expression(translated.Text).Evaluate(), CultureInfo.InvariantCulture);
        return double.IsFinite(value) ? value : null;
    }

    [GeneratedRegex(@"([+=])")]
    private static partial Regex OperatorSpacing();
}

using System.Text.RegularExpressions;

namespace ReMA.Tasks.Verification;

/// <summary>Judges whether a predicted math answer is equivalent to a reference answer, within a time limit.</summary>
public static partial class MathEquivalence
{
    [GeneratedRegex(@"^\$?\s*(?:[a-zA-Z]\s*=\s*)?-?\d+(?:\{,\}|,)\d+\s*\$?\.?$", RegexOptions.None, 200)]
    private static partial Regex DecimalCommaShape();

    /// <summary>Time allowed for one check when the caller gives none.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Longest input (in characters) that is compared; longer inputs are judged not equivalent at once.</summary>
    public const int MaxInputLength = 2000;

    /// <summary>
    /// Normalises both answers and compares them (see <see cref="AnswerNormalizer"/> and the rules listed on
    /// <see cref="Verdict.Method"/>). The comparison runs on a worker thread; when it exceeds <paramref name="timeout"/>
    /// (default <see cref="DefaultTimeout"/>) the worker is told to stop and the verdict is not equivalent and timed out.
    /// Safe to call from many threads at once.
    /// Never throws for any non-null input.
    /// </summary>
    public static Verdict Check(string gold, string prediction, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(prediction);
        if (gold.Length > MaxInputLength || prediction.Length > MaxInputLength)
        {
            return new Verdict(false, false, Shorten(gold), Shorten(prediction), "too-long");
        }

        using var cancellation = new CancellationTokenSource();
        Task<Verdict> worker = ComparisonWorkers.Shared.Run(() => Compare(gold, prediction, cancellation.Token));
        if (worker.Wait(timeout ?? DefaultTimeout))
        {
            return worker.Result;
        }

        cancellation.Cancel();
        return new Verdict(false, true, gold, prediction, "timeout");
    }

    private static Verdict Compare(string gold, string prediction, CancellationToken token)
    {
        string goldNormalized = gold;
        string predictionNormalized = prediction;
        try
        {
            goldNormalized = AnswerNormalizer.Normalize(gold);
            predictionNormalized = AnswerNormalizer.Normalize(prediction);
            if (goldNormalized.Length == 0 || predictionNormalized.Length == 0)
            {
                return new Verdict(false, false, goldNormalized, predictionNormalized, "empty");
            }

            if (AnswerNormalizer.NamedVariable(gold, goldNormalized) is string goldVariable && AnswerNormalizer.NamedVariable(prediction, predictionNormalized) is string predictedVariable
                && goldVariable != predictedVariable)
            {
                // x = 4 and y = 4 are different lines (or unknowns), although both values read 4; so are x ∈ (-∞, 5] and
                // y ≤ 5, and (x,y) = (2,3) against (y,x) = (2,3).
                return new Verdict(false, false, goldNormalized, predictionNormalized, "different-variables");
            }
            bool? goldLabels = AnswerNormalizer.LabelOrder(gold), predictionLabels = AnswerNormalizer.LabelOrder(prediction);
            if ((predictionLabels == false && goldLabels is null) || (goldLabels == false && predictionLabels is null))
            {
                // "m = 2, b = 3" against a bare (2, 3): which order the tuple means is unknown, so not equal.
                return new Verdict(false, false, goldNormalized, predictionNormalized, "label-order");
            }
            // A decimal comma is read only where the prediction is one number written with it (1,22 or x = 0,5): after
            // normalisation "1, 5" and "1 or 5" look the same and are lists.
            var engine = new EquivalenceEngine(token, DecimalCommaShape().IsMatch(prediction.Trim()));
            string? method = CompareWithPercentages(engine, gold, prediction, goldNormalized, predictionNormalized);
            if (method is null && (gold.Contains('=', StringComparison.Ordinal) || prediction.Contains('=', StringComparison.Ordinal)))
            {
                // Equations as answers: "y = -x/2 + 3/4" against "2x + 4y - 3 = 0" needs the "y =" the normaliser drops.
                string goldEquation = AnswerNormalizer.Normalize(gold, keepVariablePrefixes: true);
                string predictionEquation = AnswerNormalizer.Normalize(prediction, keepVariablePrefixes: true);
                if ((goldEquation != goldNormalized || predictionEquation != predictionNormalized) && engine.Compare(goldEquation, predictionEquation) is "equation")
                {
                    return new Verdict(true, false, goldEquation, predictionEquation, "equation");
                }
            }
            if (method is null && (prediction.Contains("\\approx", StringComparison.Ordinal) || prediction.Contains('≈')))
            {
                // "100\pi \approx 314.16" states the exact value before the approximation: an exact gold matches that.
                string exact = AnswerNormalizer.Normalize(prediction, keepVariablePrefixes: false, beforeApproximation: true);
                if (exact != predictionNormalized && exact.Length > 0 && engine.Compare(goldNormalized, exact) is string before)
                {
                    return new Verdict(true, false, goldNormalized, exact, before);
                }
            }
            return new Verdict(method is not null, false, goldNormalized, predictionNormalized, method ?? "none");
        }
        catch (Exception ex) when (ex is OperationCanceledException or RegexMatchTimeoutException)
        {
            return new Verdict(false, true, goldNormalized, predictionNormalized, "timeout");
        }
        catch (Exception)
        {
            return new Verdict(false, false, goldNormalized, predictionNormalized, "error");
        }
    }

    private static string? CompareWithPercentages(EquivalenceEngine engine, string gold, string prediction, string goldNormalized, string predictionNormalized)
    {
        string? method = engine.Compare(goldNormalized, predictionNormalized);
        if (method is null && AnswerNormalizer.IsPercentage(gold) && engine.Compare(AsFraction(goldNormalized), predictionNormalized) is not null)
        {
            method = "percent";
        }

        if (method is null && AnswerNormalizer.IsPercentage(prediction) && engine.Compare(goldNormalized, AsFraction(predictionNormalized)) is not null)
        {
            method = "percent";
        }

        return method;
    }

    private static string AsFraction(string percentage) => $"\\frac{{{percentage}}}{{100}}";

    private static string Shorten(string s) => s.Length <= MaxInputLength ? s : s[..MaxInputLength];
}

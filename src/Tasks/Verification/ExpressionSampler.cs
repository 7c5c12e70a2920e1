using NCalc;

namespace ReMA.Tasks.Verification;

/// <summary>
/// Decides whether two translated expressions are the same function by evaluating both with NCalc at a handful of
/// pseudo-random points (the same points for both, fixed seed so verdicts are reproducible).
/// </summary>
internal static class ExpressionSampler
{
    private const int Seed = 20250611;
    private const int PointCount = 6;
    private const int RequiredAgreements = 3;
    private const double Lowest = 0.5;
    private const double Spread = 2.0;
    private const ExpressionOptions Options = ExpressionOptions.IgnoreCaseAtBuiltInFunctions | ExpressionOptions.NoCache;

    /// <summary>
    /// True when both expressions evaluate to the same value at every sampled point where either is finite: within
    /// <see cref="NumericTolerance.ExactRelative"/> for two exact constants, else within <see cref="NumericTolerance.Relative"/>.
    /// </summary>
    public static bool SameValues(TranslatedExpression a, TranslatedExpression b, CancellationToken token)
    {
        bool exactConstants = a.IsExact && b.IsExact && a.Variables.Count == 0 && b.Variables.Count == 0;
        double tolerance = exactConstants ? NumericTolerance.ExactRelative : NumericTolerance.Relative;
        List<(double A, double B)>? samples = Sample(a, b, token);
        if (samples is null)
        {
            return false;
        }

        int agreements = 0;
        foreach ((double x, double y) in samples)
        {
            if (!double.IsFinite(x) && !double.IsFinite(y))
            {
                continue;
            }

            if (!NumericTolerance.Close(x, y, tolerance))
            {
                return false;
            }

            agreements++;
        }

        return agreements >= System.Math.Min(RequiredAgreements, samples.Count);
    }

    /// <summary>
    /// True when one expression is a constant non-zero multiple of the other at every sampled point: the test for
    /// equations <c>L1 = R1</c> and <c>L2 = R2</c> applied to <c>L1 - R1</c> and <c>L2 - R2</c>.
    /// </summary>
    public static bool Proportional(TranslatedExpression a, TranslatedExpression b, CancellationToken token)
    {
        List<(double A, double B)>? samples = Sample(a, b, token);
        if (samples is null)
        {
            return false;
        }

        double? ratio = null;
        int agreements = 0;
        foreach ((double x, double y) in samples)
        {
            bool xZero = System.Math.Abs(x) <= NumericTolerance.Absolute;
            bool yZero = System.Math.Abs(y) <= NumericTolerance.Absolute;
            if (!double.IsFinite(x) || !double.IsFinite(y) || xZero != yZero)
            {
                return false;
            }

            if (xZero)
            {
                continue;
            }

            ratio ??= x / y;
            if (!NumericTolerance.Close(x, ratio.Value * y))
            {
                return false;
            }

            agreements++;
        }

        return agreements >= RequiredAgreements;
    }

    /// <summary>
    /// The value of <paramref name="expression"/> with <paramref name="variable"/> (an NCalc parameter name, or null for
    /// a constant) set to <paramref name="value"/>; null when it cannot be evaluated or is not finite.
    /// </summary>
    public static double? At(TranslatedExpression expression, string? variable, double value, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        var evaluated = new Expression(expression.Text, Options);
        if (variable is not null)
        {
            evaluated.Parameters[variable] = value;
        }
        try
        {
            double result = ToDouble(evaluated.Evaluate(token));
            return double.IsFinite(result) ? result : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null;
        }
    }

    private static List<(double A, double B)>? Sample(TranslatedExpression a, TranslatedExpression b, CancellationToken token)
    {
        string[] variables = [.. a.Variables.Union(b.Variables).Order(StringComparer.Ordinal)];
        int points = variables.Length == 0 ? 1 : PointCount;
        var first = new Expression(a.Text, Options);
        var second = new Expression(b.Text, Options);
        var random = new Random(Seed);
        var samples = new List<(double A, double B)>(points);
        try
        {
            for (int p = 0; p < points; p++)
            {
                token.ThrowIfCancellationRequested();
                foreach (string variable in variables)
                {
                    double value = Lowest + (Spread * random.NextDouble());
                    first.Parameters[variable] = value;
                    second.Parameters[variable] = value;
                }

                samples.Add((ToDouble(first.Evaluate(token)), ToDouble(second.Evaluate(token))));
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null;
        }

        return samples;
    }

    private static double ToDouble(object? value) => value switch
    {
        double d => d,
        int i => i,
        long l => l,
        decimal m => (double)m,
        float f => f,
        _ => double.NaN,
    };
}

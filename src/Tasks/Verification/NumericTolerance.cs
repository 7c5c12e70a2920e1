namespace ReMA.Tasks.Verification;

/// <summary>The floating-point agreement rule shared by every numeric comparison.</summary>
internal static class NumericTolerance
{
    /// <summary>Largest accepted difference relative to the larger magnitude.</summary>
    public const double Relative = 1e-6;

    /// <summary>Relative tolerance for values computed exactly up to double rounding (integer and rational arithmetic).</summary>
    public const double ExactRelative = 1e-12;

    /// <summary>Largest accepted absolute difference, for values that should be zero (<c>sin(pi)</c>).</summary>
    public const double Absolute = 1e-12;

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> agree within the tolerances (equal infinities agree, NaN never does).</summary>
    public static bool Close(double a, double b) => Close(a, b, Relative);

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> agree within <paramref name="relative"/> (or the absolute floor).</summary>
    public static bool Close(double a, double b, double relative)
    {
        if (double.IsNaN(a) || double.IsNaN(b))
        {
            return false;
        }

        if (double.IsInfinity(a) || double.IsInfinity(b))
        {
            return a == b;
        }

        double difference = System.Math.Abs(a - b);
        return difference <= Absolute || difference <= relative * System.Math.Max(System.Math.Abs(a), System.Math.Abs(b));
    }
}

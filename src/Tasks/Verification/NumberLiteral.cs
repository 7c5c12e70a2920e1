using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace ReMA.Tasks.Verification;

/// <summary>
/// An exact rational value read from a normalised numeric answer: an integer, a decimal, a fraction
/// (<c>\frac{1}{2}</c>, <c>1/2</c>), a mixed number (<c>2\frac{1}{2}</c>) or scientific notation
/// (<c>1.5\times10^3</c>, <c>1.5e3</c>).
/// </summary>
internal readonly partial record struct NumberLiteral(BigInteger Numerator, BigInteger Denominator, bool WrittenAsDecimal)
{
    private const int MaxExponent = 400;
    private const int MaxDigits = 400;

    /// <summary>Parses a normalised answer; false when it is not one of the supported numeric forms.</summary>
    public static bool TryParse(string s, out NumberLiteral value)
    {
        bool negative = s.StartsWith('-');
        NumberLiteral? parsed = s.Length is > 0 and <= MaxDigits ? ParseUnsigned(s[0] is '-' or '+' ? s[1..] : s) : null;
        value = parsed is { } v && negative ? v with { Numerator = -v.Numerator } : parsed.GetValueOrDefault();
        return parsed.HasValue;
    }

    /// <summary>
    /// True when both values are equal exactly, or, when one was written as a decimal and the other has no terminating
    /// decimal expansion (<c>0.3333333</c> against <c>\frac{1}{3}</c>), when they agree within the relative tolerance.
    /// </summary>
    public bool Matches(NumberLiteral other)
    {
        if (Numerator * other.Denominator == other.Numerator * Denominator)
        {
            return true;
        }

        bool approximates = (WrittenAsDecimal && !other.IsTerminating()) || (other.WrittenAsDecimal && !IsTerminating());
        return approximates && NumericTolerance.Close(ToDouble(), other.ToDouble());
    }

    /// <summary>The value as a double (possibly rounded; huge values keep their magnitude through logarithms).</summary>
    public double ToDouble()
    {
        double numerator = (double)Numerator;
        double denominator = (double)Denominator;
        if (double.IsFinite(numerator) && double.IsFinite(denominator))
        {
            return numerator / denominator;
        }

        double magnitude = System.Math.Exp(BigInteger.Log(BigInteger.Abs(Numerator)) - BigInteger.Log(Denominator));
        return Numerator.Sign * magnitude;
    }

    private bool IsTerminating()
    {
        BigInteger d = Denominator / BigInteger.GreatestCommonDivisor(Numerator, Denominator);
        foreach (int prime in new[] { 2, 5 })
        {
            while (!d.IsZero && d % prime == 0)
            {
                d /= prime;
            }
        }

        return d.IsOne;
    }

    private static NumberLiteral? ParseUnsigned(string body)
    {
        if (Decimal().IsMatch(body))
        {
            return ParseDecimal(body);
        }

        Match match = Scientific().Match(body);
        if (match.Success)
        {
            int power = int.Parse(match.Groups["exp"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return System.Math.Abs(power) <= MaxExponent ? Scale(ParseDecimal(match.Groups["mantissa"].Value), power) : null;
        }

        match = Fraction().Match(body);
        match = match.Success ? match : SlashFraction().Match(body);
        if (match.Success)
        {
            return Divide(ParseSignedDecimal(match.Groups["num"].Value), ParseSignedDecimal(match.Groups["den"].Value));
        }

        match = MixedNumber().Match(body);
        if (!match.Success)
        {
            return null;
        }

        BigInteger whole = BigInteger.Parse(match.Groups["whole"].Value, CultureInfo.InvariantCulture);
        BigInteger num = BigInteger.Parse(match.Groups["num"].Value, CultureInfo.InvariantCulture);
        BigInteger den = BigInteger.Parse(match.Groups["den"].Value, CultureInfo.InvariantCulture);
        return den.IsZero ? null : new NumberLiteral((whole * den) + num, den, false);
    }

    private static NumberLiteral ParseSignedDecimal(string text)
    {
        bool negative = text.StartsWith('-');
        NumberLiteral value = ParseDecimal(negative ? text[1..] : text);
        return negative ? value with { Numerator = -value.Numerator } : value;
    }

    private static NumberLiteral ParseDecimal(string text)
    {
        int point = text.IndexOf('.', StringComparison.Ordinal);
        string digits = point < 0 ? text : text.Remove(point, 1);
        int scale = point < 0 ? 0 : text.Length - point - 1;
        return new NumberLiteral(BigInteger.Parse(digits, CultureInfo.InvariantCulture), BigInteger.Pow(10, scale), point >= 0);
    }

    private static NumberLiteral Scale(NumberLiteral value, int power) => power >= 0
        ? value with { Numerator = value.Numerator * BigInteger.Pow(10, power), WrittenAsDecimal = true }
        : value with { Denominator = value.Denominator * BigInteger.Pow(10, -power), WrittenAsDecimal = true };

    private static NumberLiteral? Divide(NumberLiteral num, NumberLiteral den)
    {
        if (den.Numerator.IsZero)
        {
            return null;
        }

        BigInteger numerator = num.Numerator * den.Denominator;
        BigInteger denominator = num.Denominator * den.Numerator;
        int sign = denominator.Sign;
        return new NumberLiteral(sign * numerator, sign * denominator, num.WrittenAsDecimal || den.WrittenAsDecimal);
    }

    [GeneratedRegex(@"^(?:\d+(?:\.\d*)?|\.\d+)$", RegexOptions.None, 200)]
    private static partial Regex Decimal();

    [GeneratedRegex(@"^(?<mantissa>\d+(?:\.\d+)?)(?:[eE](?<exp>[-+]?\d{1,4})|(?:\\times|\\cdot|\*)10\^(?:\{(?<exp>[-+]?\d{1,4})\}|(?<exp>\d)))$", RegexOptions.None, 200)]
    private static partial Regex Scientific();

    [GeneratedRegex(@"^\\frac\{(?<num>-?\d+(?:\.\d+)?)\}\{(?<den>-?\d+(?:\.\d+)?)\}$", RegexOptions.None, 200)]
    private static partial Regex Fraction();

    [GeneratedRegex(@"^(?<num>\d+(?:\.\d+)?)/(?<den>\d+(?:\.\d+)?)$", RegexOptions.None, 200)]
    private static partial Regex SlashFraction();

    [GeneratedRegex(@"^(?<whole>\d+)\\frac\{(?<num>\d+)\}\{(?<den>\d+)\}$", RegexOptions.None, 200)]
    private static partial Regex MixedNumber();
}

namespace ReMA.Tasks.Verification;

/// <summary>
/// Single-variable inequalities and the intervals they describe. A normalised answer such as <c>x≤5</c>,
/// <c>5≥x</c>, <c>-x&gt;-1</c> or the chain <c>-793&lt;a&lt;10</c> (signs as <see cref="AnswerNormalizer"/> writes them)
/// becomes the numeric interval of the variable's values, provided each side's difference is linear in the variable;
/// interval notation <c>(-793,10)</c>, <c>[-2,7]</c>, <c>(-\infty,5]</c> becomes one too, so either spelling compares
/// with the other. Lists and unions compare as sets of intervals.
/// </summary>
internal static class Inequality
{
    private const double Tolerance = 1e-9;
    private static readonly double[] LinearityPoints = [2.5, -1.5, -3.75, 17.25, -40.5];

    /// <summary>True when the normalised answer contains an inequality sign.</summary>
    public static bool Contains(string s) => s.AsSpan().IndexOfAny("<>≤≥") >= 0;

    /// <summary>
    /// Whether two normalised answers, at least one holding an inequality, describe the same set of values: "inequality"
    /// when they do, null when they do not or either side cannot be read (then the caller's other rules decide nothing more).
    /// </summary>
    public static string? Compare(string a, string b, CancellationToken token)
    {
        List<Interval>? left = Read(a, token, out string? leftVariable);
        List<Interval>? right = Read(b, token, out string? rightVariable);
        if (left is null || right is null || left.Count != right.Count)
        {
            return null;
        }
        if (leftVariable is not null && rightVariable is not null && leftVariable != rightVariable)
        {
            return null;   // x ≤ 5 and y ≤ 5 constrain different unknowns
        }
        var used = new bool[right.Count];
        foreach (Interval interval in left)
        {
            int match = Enumerable.Range(0, right.Count).FirstOrDefault(j => !used[j] && right[j].Same(interval), -1);
            if (match < 0)
            {
                return null;
            }
            used[match] = true;
        }
        return "inequality";
    }

    /// <summary>The intervals of a list or union of inequalities or intervals; null when some item is neither.</summary>
    private static List<Interval>? Read(string s, CancellationToken token, out string? variable)
    {
        variable = null;
        List<string> items = LatexScanner.SplitTopLevel(s, "\\cup");
        if (items.Count == 1)
        {
            items = Contains(s) ? LatexScanner.SplitTopLevel(s, ",") : [s];
        }
        var intervals = new List<Interval>(items.Count);
        foreach (string item in items)
        {
            Interval? interval = Contains(item) ? FromInequality(item, token, out string? name) : FromNotation(item, token, out name);
            if (interval is null || (name is not null && variable is not null && name != variable))
            {
                return null;
            }
            variable ??= name;
            intervals.Add(interval.Value);
        }
        return intervals;
    }

    /// <summary><c>(a,b)</c>, <c>[a,b]</c>, <c>(a,b]</c>, <c>[a,b)</c> with ±\infty allowed as open ends.</summary>
    private static Interval? FromNotation(string s, CancellationToken token, out string? variable)
    {
        variable = null;
        if (s.Length < 5 || s[0] is not ('(' or '[') || s[^1] is not (')' or ']') || LatexScanner.FindClosingBracket(s, 0) != s.Length - 1)
        {
            return null;
        }
        List<string> ends = LatexScanner.SplitTopLevel(s[1..^1], ",");
        if (ends.Count != 2 || Bound(ends[0], token) is not double low || Bound(ends[1], token) is not double high || low > high)
        {
            return null;
        }
        bool lowClosed = s[0] == '[', highClosed = s[^1] == ']';
        if ((double.IsInfinity(low) && lowClosed) || (double.IsInfinity(high) && highClosed))
        {
            return null;   // [-\infty, ...] is not an interval of real numbers
        }
        return new Interval(low, lowClosed, high, highClosed);
    }

    /// <summary>A chain of two or three terms joined by &lt; &gt; ≤ ≥, every adjacent pair linear in one variable.</summary>
    private static Interval? FromInequality(string s, CancellationToken token, out string? variable)
    {
        variable = null;
        var terms = new List<string>();
        var signs = new List<char>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            depth += c is '(' or '[' or '{' ? 1 : c is ')' or ']' or '}' ? -1 : 0;
            if (depth == 0 && c is '<' or '>' or '≤' or '≥')
            {
                terms.Add(s[start..i]);
                signs.Add(c);
                start = i + 1;
            }
        }
        terms.Add(s[start..]);
        if (terms.Count is < 2 or > 3 || terms.Any(t => t.Length == 0))
        {
            return null;
        }
        var interval = new Interval(double.NegativeInfinity, false, double.PositiveInfinity, false);
        for (int i = 0; i < signs.Count; i++)
        {
            // terms[i] sign terms[i+1], read as f(v) sign 0 with f = terms[i] - terms[i+1] = slope * v + offset.
            if (LatexExpressionTranslator.TryTranslate($"({terms[i]})-({terms[i + 1]})") is not { } difference || difference.Variables.Count != 1)
            {
                return null;
            }
            string name = difference.Variables.First();
            if (variable is not null && variable != name)
            {
                return null;
            }
            variable = name;
            if (ExpressionSampler.At(difference, name, 0, token) is not double f0 || ExpressionSampler.At(difference, name, 1, token) is not double f1)
            {
                return null;
            }
            double slope = f1 - f0;
            if (Math.Abs(slope) < Tolerance)
            {
                return null;
            }
            // Linear on both sides of 0 and far out (|x| < 2 is linear on [0, 2.5] alone): else not an interval this reads.
            foreach (double x in LinearityPoints)
            {
                if (ExpressionSampler.At(difference, name, x, token) is not double fx || Math.Abs(f0 + x * slope - fx) > Tolerance * Math.Max(1, Math.Abs(fx)))
                {
                    return null;
                }
            }
            double root = -f0 / slope;
            bool closed = signs[i] is '≤' or '≥';
            // slope > 0: f < 0 means v < root; slope < 0 flips the direction.
            bool below = (signs[i] is '<' or '≤') == slope > 0;
            interval = below ? interval.WithHigh(root, closed) : interval.WithLow(root, closed);
        }
        return interval.Low > interval.High ? null : interval;
    }

    private static double? Bound(string s, CancellationToken token)
    {
        string t = s.Trim();
        if (t is "\\infty" or "+\\infty" or "∞")
        {
            return double.PositiveInfinity;
        }
        if (t is "-\\infty" or "-∞")
        {
            return double.NegativeInfinity;
        }
        return LatexExpressionTranslator.TryTranslate(t) is { Variables.Count: 0 } constant ? ExpressionSampler.At(constant, null, 0, token) : null;
    }

    private readonly record struct Interval(double Low, bool LowClosed, double High, bool HighClosed)
    {
        public Interval WithLow(double value, bool closed) =>
            value > Low || (Near(value, Low) && !closed) ? this with { Low = value, LowClosed = closed } : this;

        public Interval WithHigh(double value, bool closed) =>
            value < High || (Near(value, High) && !closed) ? this with { High = value, HighClosed = closed } : this;

        public bool Same(Interval other) =>
            Near(Low, other.Low) && Near(High, other.High)
            && (double.IsInfinity(Low) || LowClosed == other.LowClosed)
            && (double.IsInfinity(High) || HighClosed == other.HighClosed);

        private static bool Near(double a, double b) =>
            a == b || (double.IsFinite(a) && double.IsFinite(b) && Math.Abs(a - b) <= Tolerance * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b))));
    }
}

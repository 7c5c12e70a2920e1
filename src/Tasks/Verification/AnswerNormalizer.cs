using System.Text.RegularExpressions;

namespace ReMA.Tasks.Verification;

/// <summary>
/// Canonicalises a LaTeX answer string in the spirit of the MATH benchmark's answer normalisation, so that
/// superficially different spellings of the same answer compare equal as strings.
/// </summary>
public static partial class AnswerNormalizer
{
    private const int RegexTimeoutMs = 200;

    /// <summary>
    /// Returns the canonical form of <paramref name="answer"/>: math delimiters, <c>\left</c>/<c>\right</c>, spacing commands,
    /// degree signs, percent and dollar signs, text wrappers, trailing units and periods, single-variable prefixes
    /// (<c>x =</c>) and thousands separators removed; <c>\dfrac</c>/<c>\tfrac</c> made <c>\frac</c>; omitted braces added
    /// (<c>\frac12</c>, <c>\sqrt2</c>); decimals written as <c>0.5</c>; whitespace removed.
    /// </summary>
    public static string Normalize(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        string s = UnwrapOuterBraces(answer.Replace('\n', ' ').Replace('\r', ' ').Replace('\t', ' ').Trim());
        s = ExplicitThousands().Replace(s, "");
        s = MathDelimiters().Replace(s, "");
        s = CanonicalCommands(s);
        s = Degrees().Replace(s, "");
        s = s.Replace("\\%", "", StringComparison.Ordinal).Replace("%", "", StringComparison.Ordinal);
        s = TextCommands.Unwrap(s);
        s = SpacingCommands().Replace(s, " ");
        s = WordSeparators().Replace(s, ",");
        s = StripTrailingNoise(s);
        s = StripVariablePrefixes(MembershipPrefix().Replace(s, "")).Trim();
        s = IsThousandsGrouped(s) ? s.Replace(",", "", StringComparison.Ordinal) : s;
        s = LatexArguments.BraceArguments(s);
        s = LatexScanner.RemoveWhitespace(s);
        s = SingleCharacterGroup().Replace(s, "$1$2");
        s = LeadingDecimalPoint().Replace(s, "0.");
        s = TrailingDecimalZeros().Replace(s, TrimDecimalZeros);
        return UnwrapOuterBraces(s);
    }

    /// <summary>True when <paramref name="s"/> is one number with comma thousands separators (<c>1,000</c>, <c>-12,345.5</c>).</summary>
    internal static bool IsThousandsGrouped(string s) => PlainThousands().IsMatch(s);

    /// <summary>True when the answer was written as a percentage (<c>50\%</c>, <c>50%</c>).</summary>
    internal static bool IsPercentage(string answer) => answer.Contains('%', StringComparison.Ordinal);

    private static string CanonicalCommands(string s)
    {
        s = s.Replace("\\dfrac", "\\frac", StringComparison.Ordinal).Replace("\\tfrac", "\\frac", StringComparison.Ordinal).Replace("\\cfrac", "\\frac", StringComparison.Ordinal);
        s = s.Replace("\\dbinom", "\\binom", StringComparison.Ordinal).Replace("\\tbinom", "\\binom", StringComparison.Ordinal);
        s = s.Replace("\\lbrace", "\\{", StringComparison.Ordinal).Replace("\\rbrace", "\\}", StringComparison.Ordinal);
        s = s.Replace("\\varnothing", "\\emptyset", StringComparison.Ordinal).Replace("\\infinity", "\\infty", StringComparison.Ordinal);
        s = SizingCommands().Replace(s, "");
        return AbsoluteBars().Replace(s, "|");
    }

    private static string StripTrailingNoise(string s)
    {
        string previous;
        do
        {
            previous = s;
            s = Units.StripTrailing(s.Trim().TrimEnd('.', ',', ';').TrimEnd());
        }
        while (s != previous);

        return s.Trim();
    }

    /// <summary>
    /// Drops <c>x =</c> style prefixes from the answer or from each item of a list, when every prefix names the same
    /// single variable (<c>x = 1, x = 2</c>); prefixes naming different variables (<c>a = 2, b = 3</c>) carry meaning and stay.
    /// </summary>
    private static string StripVariablePrefixes(string s)
    {
        if (!s.Contains('=', StringComparison.Ordinal))
        {
            return s;
        }

        List<string> pieces = LatexScanner.SplitTopLevel(s, ",");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < pieces.Count; i++)
        {
            Match match = VariablePrefix().Match(pieces[i]);
            string variable = match.Groups["var"].Value;
            bool singleVariable = match.Success && (variable.Length == 1 || GreekLetters.Names.Contains(variable[1..]));
            if (singleVariable && !match.Groups["rest"].Value.Contains('=', StringComparison.Ordinal))
            {
                names.Add(LatexScanner.RemoveWhitespace(match.Groups["lhs"].Value));
                pieces[i] = match.Groups["lead"].Value + match.Groups["rest"].Value;
            }
        }

        return names.Count == 1 ? string.Join(',', pieces) : s;
    }

    private static string TrimDecimalZeros(Match match)
    {
        string fraction = match.Groups["fraction"].Value;
        return fraction.Length == 0 ? match.Groups["whole"].Value : match.Groups["whole"].Value + "." + fraction;
    }

    private static string UnwrapOuterBraces(string s)
    {
        while (s.Length >= 2 && s[0] == '{' && LatexScanner.FindClosingBrace(s, 0) == s.Length - 1)
        {
            s = s[1..^1];
        }

        return s;
    }

    [GeneratedRegex(@"(?<=\d)(?:,\\!\s*|\{,\})(?=\d)", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex ExplicitThousands();

    [GeneratedRegex(@"\\\$|\$|(?<!\\)\\\(|(?<!\\)\\\)|^\\\[|\\\]$", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex MathDelimiters();

    [GeneratedRegex(@"\\(?:left|right)\.|\\(?:displaystyle|textstyle|left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg)(?![a-zA-Z])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex SizingCommands();

    [GeneratedRegex(@"\\(?:lvert|rvert|vert|mid)(?![a-zA-Z])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex AbsoluteBars();

    [GeneratedRegex(@"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])|°", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex Degrees();

    [GeneratedRegex(@"(?<!\\)\\[,;:! ]|\\q?quad(?![a-zA-Z])|~", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex SpacingCommands();

    [GeneratedRegex(@"\s*,?\s+(?:or|and)\s+", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex WordSeparators();

    [GeneratedRegex(@"([_^])\{(\w)\}", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex SingleCharacterGroup();

    [GeneratedRegex(@"^\s*[a-zA-Z]\s*\\in(?![a-zA-Z])\s*", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex MembershipPrefix();

    [GeneratedRegex(@"^(?<lead>\s*)(?<lhs>(?<var>[a-zA-Z]|\\[a-zA-Z]+)\s*(?:_\{?[a-zA-Z0-9]+\}?)?\s*(?:\(\s*[a-zA-Z]\s*\))?)\s*=\s*(?<rest>.+)$", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex VariablePrefix();

    [GeneratedRegex(@"(?<![\d.])\.(?=\d)", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex LeadingDecimalPoint();

    [GeneratedRegex(@"(?<![\d.])(?<whole>\d+)\.(?<fraction>\d*?)0*(?![\d.])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex TrailingDecimalZeros();

    [GeneratedRegex(@"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex PlainThousands();
}

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
    /// (<c>\frac12</c>, <c>\sqrt2</c>); decimals written as <c>0.5</c>; whitespace removed. Also: "28 percent" read as
    /// 28%; inequality signs made ≤ ≥ &lt; &gt; (<c>\leq</c>, <c>&lt;=</c>, <c>\geqslant</c>, ...); <c>\approx</c> read as =, and
    /// a chain <c>x = 5+6 = 11</c> taken at its last value; labels dropped (<c>(p,q)=(3,2)</c>, <c>S:T=7:32</c>);
    /// assignments to distinct variables written as tuples in the variables' alphabetical order (<c>q=2,p=5</c> is
    /// <c>(5,2)</c>; groups separated by ";" each a tuple); other ";" separators read as ",".
    /// With <paramref name="keepVariablePrefixes"/> the <c>x =</c> prefixes, chains and assignments stay (equations compared whole).
    /// </summary>
    public static string Normalize(string answer, bool keepVariablePrefixes = false) => Normalize(answer, keepVariablePrefixes, beforeApproximation: false);

    /// <summary>
    /// As <see cref="Normalize(string, bool)"/>; with <paramref name="beforeApproximation"/> a chain whose last link is an
    /// approximation (<c>A = 100\pi \approx 314.16</c>) is taken at the exact value before it.
    /// </summary>
    public static string Normalize(string answer, bool keepVariablePrefixes, bool beforeApproximation) =>
        Normalize(answer, keepVariablePrefixes, beforeApproximation, keepSemicolons: false);

    private static string Normalize(string answer, bool keepVariablePrefixes, bool beforeApproximation, bool keepSemicolons)
    {
        ArgumentNullException.ThrowIfNull(answer);
        string s = UnwrapOuterBraces(answer.Replace('\n', ' ').Replace('\r', ' ').Replace('\t', ' ').Trim());
        s = ExplicitThousands().Replace(s, "");
        s = s.Replace("{,}", ",", StringComparison.Ordinal);   // 1{,}5: a decimal comma in braces (three digits after it were thousands above)
        s = MathDelimiters().Replace(s, "");
        if (s.Contains("per", StringComparison.OrdinalIgnoreCase) || s.Contains("pct", StringComparison.OrdinalIgnoreCase))
        {
            s = PercentWords().Replace(s, "\\%");
        }
        s = Inequalities(s);
        s = CanonicalCommands(s);
        s = Degrees().Replace(s, "");
        s = s.Replace("\\%", "", StringComparison.Ordinal).Replace("%", "", StringComparison.Ordinal);
        s = TextCommands.Unwrap(s);
        s = SpacingCommands().Replace(s, " ");
        s = WordSeparators().Replace(s, ",");
        s = StripTrailingNoise(s);
        s = MembershipPrefix().Replace(s, "");
        s = Reals().Replace(s, "(-\\infty,\\infty)");
        if (!keepVariablePrefixes)
        {
            s = RatioLabel().Replace(WithoutTupleLabels(s), "");
            if (beforeApproximation)
            {
                s = BeforeLastApproximation(s);
            }
            s = LastOfChain(s);
            s = LabelledTuples(s, out _) ?? StripVariablePrefixes(s);
        }
        s = (keepSemicolons ? s : Semicolons(s)).Trim();
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

    /// <summary>True when the answer was written as a percentage (<c>50\%</c>, <c>50%</c>, <c>50 percent</c>).</summary>
    internal static bool IsPercentage(string answer) => answer.Contains('%', StringComparison.Ordinal)
        || ((answer.Contains("per", StringComparison.OrdinalIgnoreCase) || answer.Contains("pct", StringComparison.OrdinalIgnoreCase)) && PercentWords().IsMatch(answer));

    /// <summary>Inequality signs in one spelling each: ≤ ≥ &lt; &gt; (single characters, so removing whitespace cannot glue them to a variable).</summary>
    private static string Inequalities(string s)
    {
        if (s.IndexOfAny(['<', '>', '≤', '≥', '≦', '≧']) < 0 && !s.Contains("\\le", StringComparison.Ordinal) && !s.Contains("\\ge", StringComparison.Ordinal)
            && !s.Contains("\\lt", StringComparison.Ordinal) && !s.Contains("\\gt", StringComparison.Ordinal))
        {
            return s;
        }
        s = LessOrEqual().Replace(s, "≤");
        s = GreaterOrEqual().Replace(s, "≥");
        return StrictSigns().Replace(s, m => m.Value.Contains('l') ? "<" : ">");
    }

    /// <summary><c>x = 5+5+1 = 7 = 11</c> (or <c>x \approx 11</c>, <c>= 11</c>): the value after the last = of a chain that starts with a single variable or nothing.</summary>
    private static string LastOfChain(string s)
    {
        if (s.Contains('≈') || s.Contains("\\approx", StringComparison.Ordinal) || s.Contains("eq", StringComparison.Ordinal))
        {
            s = Approximately().Replace(s, "=");
        }
        if (!s.Contains('=', StringComparison.Ordinal))
        {
            return s;
        }
        List<string> parts = LatexScanner.SplitTopLevel(s, "=");
        if (parts.Count < 2 || parts.Skip(1).Any(p => p.Trim().Length == 0)
            || LatexScanner.SplitTopLevel(s, ",").Count > 1 || LatexScanner.SplitTopLevel(s, ";").Count > 1)
        {
            return s;   // not a chain, or a list of assignments ("x = 1, x = 2")
        }
        string first = LatexScanner.RemoveWhitespace(parts[0]);
        bool variable = first.Length == 1 && char.IsAsciiLetter(first[0]) || first.StartsWith('\\') && GreekLetters.Names.Contains(first[1..])
            || FunctionValue().IsMatch(first);   // f(2) = 2^2 + 3 = 7
        // "= 11", "x = 5+6 = 11", and a computation of constants such as "3 \times 4 = 12" or "\sqrt{2} = 1.41".
        if (first.Length == 0 || (variable && parts.Count >= 3) || parts.All(IsConstant))
        {
            return parts[^1].Trim();
        }
        return s;
    }

    /// <summary><c>(x,y)=(2,3); (x,y)=(-2,-3)</c>: the tuple labels dropped from every item of a list.</summary>
    private static string WithoutTupleLabels(string s)
    {
        if (!s.Contains('=', StringComparison.Ordinal) || !TupleLabel().IsMatch(s))
        {
            return s;
        }
        List<string> groups = LatexScanner.SplitTopLevel(s, ";");
        return string.Join(";", groups.Select(g => string.Join(",", LatexScanner.SplitTopLevel(g, ",").Select(item => TupleLabel().Replace(item, "")))));
    }

    /// <summary>The chain up to its last approximation sign: <c>A = 100\pi \approx 314.16</c> as <c>A = 100\pi</c>.</summary>
    private static string BeforeLastApproximation(string s)
    {
        Match last = Approximately().Matches(s) is { Count: > 0 } all ? all[^1] : Match.Empty;
        return last.Success && last.Index > 0 && s[..last.Index].Trim().Length > 0 ? s[..last.Index].Trim() : s;
    }

    /// <summary>True when <paramref name="s"/> has no letter outside LaTeX commands (a number, \pi, or a computation of them).</summary>
    private static bool IsConstant(string s)
    {
        string bare = LatexCommand().Replace(s, "");
        // A Greek letter other than \pi (GreekLetters' variables, and \Pi) is a variable, not a constant.
        return !bare.Any(char.IsAsciiLetter) && !s.Contains("\\begin", StringComparison.Ordinal)
            && !LatexCommand().Matches(s).Any(m => m.Value[1..] is var name && (name == "Pi" || GreekLetters.Names.Contains(name)));
    }

    [GeneratedRegex(@"\\[a-zA-Z]+", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex LatexCommand();

    /// <summary>
    /// <c>p=5,q=2</c> as <c>(5,2)</c>, and <c>p=5,q=2;p=7,q=2</c> as <c>(5,2),(7,2)</c>: every item an assignment to a
    /// single variable, at least two distinct variables per group, each group naming the same ones; values ordered by
    /// variable name, so two labelled answers compare by their labels. <paramref name="alphabetical"/> says whether they
    /// were written in that order (see <see cref="LabelOrder"/>). Null when the answer is not that.
    /// </summary>
    private static string? LabelledTuples(string s, out bool alphabetical)
    {
        alphabetical = true;
        if (!s.Contains('=', StringComparison.Ordinal))
        {
            return null;
        }
        List<string> groups = LatexScanner.SplitTopLevel(s, ";");
        string[]? names = null;
        var tuples = new List<string>(groups.Count);
        foreach (string group in groups)
        {
            var assignments = new List<KeyValuePair<string, string>>();
            foreach (string item in LatexScanner.SplitTopLevel(group, ","))
            {
                Match match = VariablePrefix().Match(item);
                string variable = match.Groups["var"].Value;
                string lhs = LatexScanner.RemoveWhitespace(match.Groups["lhs"].Value);
                if (!match.Success || lhs != variable || !(variable.Length == 1 || GreekLetters.Names.Contains(variable[1..]))
                    || match.Groups["rest"].Value.Contains('=', StringComparison.Ordinal))
                {
                    return null;
                }
                assignments.Add(new(variable.TrimStart('\\'), match.Groups["rest"].Value.Trim()));
            }
            string[] written = [.. assignments.Select(a => a.Key)];
            string[] sorted = [.. written.Order(StringComparer.Ordinal)];
            if (written.Length < 2 || written.Distinct().Count() != written.Length || (names is not null && !names.SequenceEqual(sorted)))
            {
                return null;
            }
            alphabetical &= written.SequenceEqual(sorted);
            names ??= sorted;
            tuples.Add("(" + string.Join(',', assignments.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => a.Value)) + ")");
        }
        return string.Join(',', tuples);
    }

    /// <summary>
    /// Whether <paramref name="answer"/> is labelled assignments to two or more distinct variables: null when it is not;
    /// true when written in alphabetical order; false when not ("m = 2, b = 3", "y = 3, x = -1"), whose order against a
    /// bare tuple is unknown (the question may ask for (m, b) or for (b, m)).
    /// </summary>
    internal static bool? LabelOrder(string answer) =>
        answer.Contains('=', StringComparison.Ordinal) && LabelledTuples(Normalize(answer, true, false, keepSemicolons: true), out bool alphabetical) is not null
            ? alphabetical
            : null;

    /// <summary>Top-level ";" separating the items of a list, read as ",".</summary>
    private static string Semicolons(string s) =>
        s.Contains(';', StringComparison.Ordinal) ? string.Join(',', LatexScanner.SplitTopLevel(s, ";").Select(p => p.Trim())) : s;

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
                // x_1 = -1, x_2 = 4 name one unknown's roots: numbered subscripts count as the same variable.
                names.Add(NumberedSubscript().Replace(LatexScanner.RemoveWhitespace(match.Groups["lhs"].Value), ""));
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

    [GeneratedRegex(@"(?<=\d)(?:,\\!\s*|\{,\})(?=\d{3}(?!\d))", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex ExplicitThousands();

    /// <summary>A percent written as a word after a number: 28 percent, 28 per cent, 28 percentage, 28 pct, 28 \text{ percent}.</summary>
    [GeneratedRegex(@"(?<=\d\}?)\s*(?:\\(?:text|mbox|mathrm)\s*\{\s*)?(?:per\s*cent(?:age)?|pct)\.?(?:\s*\})?(?![a-zA-Z])", RegexOptions.IgnoreCase, RegexTimeoutMs)]
    private static partial Regex PercentWords();

    [GeneratedRegex(@"<=|≦|\\leqslant(?![a-zA-Z])|\\leq(?![a-zA-Z])|\\le(?![a-zA-Z])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex LessOrEqual();

    [GeneratedRegex(@">=|≧|\\geqslant(?![a-zA-Z])|\\geq(?![a-zA-Z])|\\ge(?![a-zA-Z])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex GreaterOrEqual();

    [GeneratedRegex(@"\\lt(?![a-zA-Z])|\\gt(?![a-zA-Z])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex StrictSigns();

    [GeneratedRegex(@"\\approx(?![a-zA-Z])|≈|\\simeq(?![a-zA-Z])|\\doteq(?![a-zA-Z])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex Approximately();

    [GeneratedRegex(@"_\{?\d+\}?$", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex NumberedSubscript();

    /// <summary>A function's value at a point, naming the chain it starts: f(2), g(-1), P(3).</summary>
    [GeneratedRegex(@"^[a-zA-Z](?:_\{?\w+\}?)?\([^()=]*\)$", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex FunctionValue();

    /// <summary>
    /// The single variable an answer assigns its value to (<c>x = 4</c> names x, <c>y=4</c> names y); null when it is not
    /// one assignment to a single variable.
    /// </summary>
    internal static string? AssignedVariable(string answer)
    {
        if (!answer.Contains('=', StringComparison.Ordinal))
        {
            return null;
        }
        string s = Normalize(answer, keepVariablePrefixes: true);
        if (LatexScanner.SplitTopLevel(s, ",").Count > 1 || LatexScanner.SplitTopLevel(s, "=").Count != 2)
        {
            return null;
        }
        Match match = VariablePrefix().Match(s);
        string variable = match.Groups["var"].Value;
        return match.Success && (variable.Length == 1 || GreekLetters.Names.Contains(variable[1..])) && IsConstant(match.Groups["rest"].Value)
            ? LatexScanner.RemoveWhitespace(match.Groups["lhs"].Value)
            : null;
    }

    /// <summary>
    /// The unknown an answer names for its value: <c>x = 4</c> (a constant assigned to a single variable), <c>x \in [1,2]</c>,
    /// a single-variable inequality such as <c>y \le 5</c>, or a tuple label such as <c>(x,y) =</c>; null when it names none.
    /// Two answers naming different unknowns are different answers, whatever their values.
    /// </summary>
    /// <param name="answer">the answer as given</param>
    /// <param name="normalized">its <see cref="Normalize(string, bool)"/> form (already computed by the caller)</param>
    internal static string? NamedVariable(string answer, string normalized)
    {
        if (AssignedVariable(answer) is string assigned)
        {
            return assigned;
        }
        if (answer.Contains("\\in", StringComparison.Ordinal) || answer.Contains('='))
        {
            string s = MathDelimiters().Replace(answer, "").Trim();
            if (Membership().Match(s) is { Success: true } member)
            {
                return member.Groups["var"].Value;
            }
            if (TupleLabel().Match(s) is { Success: true } label)
            {
                return LatexScanner.RemoveWhitespace(label.Value).TrimEnd('=');
            }
        }
        if (normalized.AsSpan().IndexOfAny("<>≤≥") >= 0)
        {
            var letters = LatexCommand().Replace(normalized, "").Where(char.IsAsciiLetter).Distinct().ToList();
            return letters.Count == 1 ? letters[0].ToString() : null;
        }
        return null;
    }

    [GeneratedRegex(@"^(?<var>[a-zA-Z])\s*\\in(?![a-zA-Z])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex Membership();

    /// <summary>The real numbers as a set: \mathbb{R}, \mathbb R, \R, ℝ (after "x \in" was dropped).</summary>
    [GeneratedRegex(@"^\s*(?:\\mathbb\s*\{\s*R\s*\}|\\mathbb\s+R|\\R(?![a-zA-Z])|ℝ)\s*$", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex Reals();

    /// <summary>A tuple of variables naming the tuple that follows: <c>(p,q)=</c> before <c>(3,2)</c>.</summary>
    [GeneratedRegex(@"^\s*\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])+\s*\)\s*=\s*(?=[\(\[])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex TupleLabel();

    /// <summary>A ratio of variables naming the ratio that follows: <c>S:T=</c> before <c>7:32</c>.</summary>
    [GeneratedRegex(@"^\s*(?:[a-zA-Z]|[A-Z]{2,3})(?:\s*:\s*(?:[a-zA-Z]|[A-Z]{2,3}))+\s*=\s*(?=-?\d)", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex RatioLabel();

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

    [GeneratedRegex(@"^(?<lead>\s*)(?<lhs>(?<var>[a-zA-Z]|\\[a-zA-Z]+)\s*(?:_\{?[a-zA-Z0-9]+\}?)?\s*(?:\^\{?(?:-1|T)\}?)?\s*(?:\(\s*[a-zA-Z]\s*\))?)\s*=\s*(?<rest>.+)$", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex VariablePrefix();

    [GeneratedRegex(@"(?<![\d.])\.(?=\d)", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex LeadingDecimalPoint();

    [GeneratedRegex(@"(?<![\d.])(?<whole>\d+)\.(?<fraction>\d*?)0*(?![\d.])", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex TrailingDecimalZeros();

    [GeneratedRegex(@"^-?(?!0,)\d{1,3}(?:,\d{3})+(?:\.\d+)?$", RegexOptions.None, RegexTimeoutMs)]
    private static partial Regex PlainThousands();
}

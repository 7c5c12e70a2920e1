namespace ReMA.Tasks.Verification;

/// <summary>
/// Compares two normalised single-value answers: words case-insensitively, numeric literals exactly (with a
/// tolerance only for decimal approximations of non-terminating values), anything else by NCalc evaluation.
/// </summary>
internal static class ScalarComparison
{
    /// <summary>Returns the rule under which the scalars agree ("text", "numeric", "expression"), or null.</summary>
    public static string? Compare(string a, string b, CancellationToken token)
    {
        if (IsWordy(a) && IsWordy(b) && string.Equals(a, b, StringComparison.OrdinalIgnoreCase))
        {
            return "text";
        }

        if (NumberLiteral.TryParse(a, out NumberLiteral first) && NumberLiteral.TryParse(b, out NumberLiteral second))
        {
            return first.Matches(second) ? "numeric" : null;
        }

        if (LatexExpressionTranslator.TryTranslate(a) is not { } left || LatexExpressionTranslator.TryTranslate(b) is not { } right)
        {
            return null;
        }

        return ExpressionSampler.SameValues(left, right, token) ? "expression" : null;
    }

    /// <summary>True when <paramref name="s"/> contains a word of three or more letters that is not a LaTeX command.</summary>
    private static bool IsWordy(string s)
    {
        int run = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsAsciiLetter(s[i]))
            {
                run = run == 0 && i > 0 && s[i - 1] == '\\' ? -s.Length : run + 1;
                if (run >= 3)
                {
                    return true;
                }
            }
            else
            {
                run = 0;
            }
        }

        return false;
    }
}

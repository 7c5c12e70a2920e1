namespace ReMA.Tasks.Verification;

/// <summary>
/// Compares two normalised answers structurally: choice letters, matrices, tuples and intervals (ordered, same
/// brackets), sets and lists (unordered), equations, then scalars (text, exact numbers, NCalc evaluation).
/// Each comparison returns the name of the rule that proved equivalence, or null.
/// </summary>
/// <param name="decimalCommaPrediction">whether the prediction may be one number written with a decimal comma (its raw shape allows it)</param>
internal sealed class EquivalenceEngine(CancellationToken token, bool decimalCommaPrediction = false)
{
    private const int MaxDepth = 6;
    private const int MaxItems = 64;

    /// <summary>Returns the rule under which <paramref name="a"/> and <paramref name="b"/> are equivalent, or null when they are not.</summary>
    public string? Compare(string a, string b) => Compare(a, b, 0);

    private string? Compare(string a, string b, int depth)
    {
        token.ThrowIfCancellationRequested();
        if (a == b)
        {
            return "exact";
        }

        if (depth > MaxDepth || a.Length == 0 || b.Length == 0)
        {
            return null;
        }

        if (depth == 0 && SameGroupedNumber(a, b))
        {
            return "numeric";
        }

        if (depth == 0 && decimalCommaPrediction && DecimalComma(b) is string decimalPrediction && a.Contains('.', StringComparison.Ordinal)
            && NumberLiteral.TryParse(a, out NumberLiteral goldNumber) && NumberLiteral.TryParse(decimalPrediction, out NumberLiteral predicted) && goldNumber.Matches(predicted))
        {
            return "decimal-comma";
        }

        if (Inequality.Contains(a) || Inequality.Contains(b))
        {
            return Inequality.Compare(a, b, token);
        }

        if (MultipleChoice.TryParse(a, out char first) && MultipleChoice.TryParse(b, out char second))
        {
            return first == second ? "choice" : null;
        }

        if (MatrixAnswer.LooksLikeMatrix(a) || MatrixAnswer.LooksLikeMatrix(b))
        {
            return CompareMatrices(a, b, depth);
        }

        AnswerCollection left = AnswerCollection.Parse(a);
        AnswerCollection right = AnswerCollection.Parse(b);
        if (left.Kind != CollectionKind.Scalar || right.Kind != CollectionKind.Scalar)
        {
            return CompareCollections(left, right, depth);
        }

        return a.Contains('=', StringComparison.Ordinal) || b.Contains('=', StringComparison.Ordinal)
            ? CompareEquations(a, b, depth)
            : ScalarComparison.Compare(a, b, token);
    }

    /// <summary>
    /// A whole answer such as <c>70,110</c> may be one grouped number or a two-item list (normalisation keeps the list
    /// reading when the author wrote a space after the comma); when one side has that shape, the number reading is also tried.
    /// </summary>
    private static bool SameGroupedNumber(string a, string b)
    {
        if (!AnswerNormalizer.IsThousandsGrouped(a) && !AnswerNormalizer.IsThousandsGrouped(b))
        {
            return false;
        }

        return NumberLiteral.TryParse(a.Replace(",", "", StringComparison.Ordinal), out NumberLiteral first)
            && NumberLiteral.TryParse(b.Replace(",", "", StringComparison.Ordinal), out NumberLiteral second)
            && first.Matches(second);
    }

    /// <summary>
    /// A prediction such as <c>1,22</c> or <c>0,111</c> (one comma between digits, not a thousands grouping) read with a
    /// decimal comma, as <c>1.22</c>; null otherwise. Only the prediction is read so: a gold <c>3,5</c> is a list.
    /// </summary>
    private static string? DecimalComma(string prediction)
    {
        int comma = prediction.IndexOf(',', StringComparison.Ordinal);
        if (comma <= 0 || comma == prediction.Length - 1 || prediction.IndexOf(',', comma + 1) >= 0 || AnswerNormalizer.IsThousandsGrouped(prediction))
        {
            return null;
        }
        int start = prediction[0] == '-' ? 1 : 0;
        for (int i = start; i < prediction.Length; i++)
        {
            if (i != comma && !char.IsAsciiDigit(prediction[i]))
            {
                return null;
            }
        }
        return comma > start ? prediction.Replace(',', '.') : null;
    }

    private string? CompareMatrices(string a, string b, int depth)
    {
        List<List<string>>? left = MatrixAnswer.TryParse(a);
        List<List<string>>? right = MatrixAnswer.TryParse(b);
        if (left is null || right is null || left.Count != right.Count)
        {
            return null;
        }

        for (int row = 0; row < left.Count; row++)
        {
            if (!InOrder(left[row], right[row], depth))
            {
                return null;
            }
        }

        return "matrix";
    }

    private string? CompareCollections(AnswerCollection left, AnswerCollection right, int depth)
    {
        if (left.Items.Count > MaxItems || right.Items.Count > MaxItems)
        {
            return null;
        }

        return (left.Kind, right.Kind) switch
        {
            (CollectionKind.Ordered, CollectionKind.Ordered) =>
                left.Brackets == right.Brackets && InOrder(left.Items, right.Items, depth) ? OrderedName(left) : null,
            (CollectionKind.Unordered, CollectionKind.Unordered) when left.Brackets == "{}" || right.Brackets == "{}" =>
                // A set's repeated members count once; a bare list's repeats stay (a double root is listed twice).
                InAnyOrder(left.Brackets == "{}" ? Distinct(left.Items) : left.Items, right.Brackets == "{}" ? Distinct(right.Items) : right.Items, depth) ? "set" : null,
            (CollectionKind.Unordered, CollectionKind.Unordered) =>
                InAnyOrder(left.Items, right.Items, depth) ? "set" : null,
            // Assignments ("m=2, b=3") do not match a bare tuple in the order they were written: the tuple's order is unknown.
            (CollectionKind.Ordered, CollectionKind.Unordered) when left.IsParenthesisedTuple && right.IsBareList && !right.Items.Any(IsAssignment) =>
                InOrder(left.Items, right.Items, depth) ? "tuple" : null,
            (CollectionKind.Unordered, CollectionKind.Ordered) when right.IsParenthesisedTuple && left.IsBareList && !left.Items.Any(IsAssignment) =>
                InOrder(left.Items, right.Items, depth) ? "tuple" : null,
            (CollectionKind.Unordered, CollectionKind.Scalar) when left.Items.Count == 1 => Compare(left.Items[0], right.Items[0], depth + 1),
            (CollectionKind.Scalar, CollectionKind.Unordered) when right.Items.Count == 1 => Compare(left.Items[0], right.Items[0], depth + 1),
            _ => null,
        };
    }

    private static bool IsAssignment(string item) => LatexScanner.SplitTopLevel(item, "=").Count == 2;

    private static List<string> Distinct(IReadOnlyList<string> items) => [.. items.Distinct(StringComparer.Ordinal)];

    private static string OrderedName(AnswerCollection collection) => collection.IsParenthesisedTuple ? "tuple" : "interval";

    private bool InOrder(IReadOnlyList<string> left, IReadOnlyList<string> right, int depth)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        for (int i = 0; i < left.Count; i++)
        {
            if (Compare(left[i], right[i], depth + 1) is null)
            {
                return false;
            }
        }

        return true;
    }

    private bool InAnyOrder(IReadOnlyList<string> left, IReadOnlyList<string> right, int depth)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        var used = new bool[right.Count];
        foreach (string item in left)
        {
            int match = FindUnused(item, right, used, depth);
            if (match < 0)
            {
                return false;
            }

            used[match] = true;
        }

        return true;
    }

    private int FindUnused(string item, IReadOnlyList<string> candidates, bool[] used, int depth)
    {
        for (int j = 0; j < candidates.Count; j++)
        {
            if (!used[j] && item == candidates[j])
            {
                return j;
            }
        }

        for (int j = 0; j < candidates.Count; j++)
        {
            if (!used[j] && Compare(item, candidates[j], depth + 1) is not null)
            {
                return j;
            }
        }

        return -1;
    }

    private string? CompareEquations(string a, string b, int depth)
    {
        List<string> left = LatexScanner.SplitTopLevel(a, "=");
        List<string> right = LatexScanner.SplitTopLevel(b, "=");
        if (left.Count == 2 && right.Count == 1)
        {
            return SolvedSide(left) is { } value && Compare(value, b, depth + 1) is not null ? "equation" : null;
        }

        if (left.Count == 1 && right.Count == 2)
        {
            return SolvedSide(right) is { } value && Compare(a, value, depth + 1) is not null ? "equation" : null;
        }

        if (left.Count != 2 || right.Count != 2)
        {
            return null;
        }

        if (left[0] == right[0])
        {
            return Compare(left[1], right[1], depth + 1) is null ? null : "equation";
        }

        TranslatedExpression? first = LatexExpressionTranslator.TryTranslate($"({left[0]})-({left[1]})");
        TranslatedExpression? second = LatexExpressionTranslator.TryTranslate($"({right[0]})-({right[1]})");
        return first is not null && second is not null && ExpressionSampler.Proportional(first, second, token) ? "equation" : null;
    }

    /// <summary>For <c>expr = y</c> (the normaliser already turned <c>y = expr</c> into <c>expr</c>), returns <c>expr</c>; else null.</summary>
    private static string? SolvedSide(List<string> sides)
    {
        static bool IsVariable(string s) =>
            (s.Length == 1 && char.IsAsciiLetter(s[0])) || (s.StartsWith('\\') && GreekLetters.Names.Contains(s[1..]));

        return IsVariable(sides[1]) ? sides[0] : IsVariable(sides[0]) ? sides[1] : null;
    }
}

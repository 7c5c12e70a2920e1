namespace ReMA.Tasks.Verification;

/// <summary>How the items of an answer relate: a single value, an ordered tuple or interval, or an unordered set or list.</summary>
internal enum CollectionKind
{
    /// <summary>A single value, expression or equation.</summary>
    Scalar,

    /// <summary>A bracketed tuple, point or interval: <c>(1,2)</c>, <c>(1,2]</c>.</summary>
    Ordered,

    /// <summary>A set <c>\{1,2\}</c>, a bare list <c>1, 2</c>, a union of intervals, or a <c>\pm</c> pair.</summary>
    Unordered,
}

/// <summary>
/// A normalised answer split into its items: tuples and intervals keep their brackets and order; sets, bare lists,
/// unions of intervals and <c>a \pm b</c> expand to unordered items.
/// </summary>
/// <param name="Kind">Whether order matters.</param>
/// <param name="Brackets">Opening and closing bracket of a tuple or interval (e.g. <c>(]</c>), <c>{}</c> for a set, empty for a bare list.</param>
/// <param name="Items">The items as normalised strings.</param>
internal sealed record AnswerCollection(CollectionKind Kind, string Brackets, IReadOnlyList<string> Items)
{
    /// <summary>Splits <paramref name="s"/> into a collection (a <see cref="CollectionKind.Scalar"/> holds <paramref name="s"/> itself).</summary>
    public static AnswerCollection Parse(string s)
    {
        List<string> union = LatexScanner.SplitTopLevel(s, "\\cup");
        if (union.Count > 1)
        {
            return new AnswerCollection(CollectionKind.Unordered, "", union);
        }

        if (s.StartsWith("\\{", StringComparison.Ordinal) && LatexScanner.FindClosingBracket(s, 0) == s.Length - 1)
        {
            string inner = s[2..^2];
            return new AnswerCollection(CollectionKind.Unordered, "{}", inner.Length == 0 ? [] : ExpandAll(LatexScanner.SplitTopLevel(inner, ",")));
        }

        if (s.Length > 2 && s[0] is '(' or '[' && s[^1] is ')' or ']' && LatexScanner.FindClosingBracket(s, 0) == s.Length - 1)
        {
            List<string> items = LatexScanner.SplitTopLevel(s[1..^1], ",");
            if (items.Count > 1)
            {
                return new AnswerCollection(CollectionKind.Ordered, $"{s[0]}{s[^1]}", items);
            }
        }

        List<string> list = ExpandAll(LatexScanner.SplitTopLevel(s, ","));
        return list.Count > 1
            ? new AnswerCollection(CollectionKind.Unordered, "", list)
            : new AnswerCollection(CollectionKind.Scalar, "", [s]);
    }

    /// <summary>True for a tuple written with parentheses, which may be compared in order against a bare list.</summary>
    public bool IsParenthesisedTuple => Kind == CollectionKind.Ordered && Brackets == "()";

    /// <summary>True for items separated by commas without enclosing brackets (<c>1, 2</c>).</summary>
    public bool IsBareList => Kind == CollectionKind.Unordered && Brackets.Length == 0;

    private static List<string> ExpandAll(List<string> items)
    {
        var expanded = new List<string>(items.Count);
        foreach (string item in items)
        {
            expanded.AddRange(ExpandPlusMinus(item));
        }

        return expanded;
    }

    private static IEnumerable<string> ExpandPlusMinus(string item)
    {
        foreach ((string command, string first, string second) in new[] { ("\\pm", "+", "-"), ("\\mp", "-", "+") })
        {
            int index = item.IndexOf(command, StringComparison.Ordinal);
            bool single = index >= 0 && item.IndexOf(command, index + 1, StringComparison.Ordinal) < 0;
            if (single && (index + 3 >= item.Length || !char.IsAsciiLetter(item[index + 3])))
            {
                return [Join(item[..index], first, item[(index + 3)..]), Join(item[..index], second, item[(index + 3)..])];
            }
        }

        return [item];
    }

    private static string Join(string before, string sign, string after) =>
        before.Length == 0 && sign == "+" ? after : before + sign + after;
}

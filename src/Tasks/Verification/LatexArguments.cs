using System.Text;

namespace ReMA.Tasks.Verification;

/// <summary>
/// Adds the braces that LaTeX lets authors omit around single-token arguments:
/// <c>\frac12</c> becomes <c>\frac{1}{2}</c>, <c>\frac1b</c> becomes <c>\frac{1}{b}</c>, <c>\sqrt2</c> becomes <c>\sqrt{2}</c>.
/// </summary>
internal static class LatexArguments
{
    private const int MaxDepth = 64;

    private static readonly Dictionary<string, int> ArgumentCounts = new(StringComparer.Ordinal)
    {
        ["frac"] = 2,
        ["binom"] = 2,
        ["sqrt"] = 1,
    };

    /// <summary>Returns <paramref name="s"/> with every <c>\frac</c>, <c>\binom</c> and <c>\sqrt</c> argument wrapped in braces.</summary>
    public static string BraceArguments(string s) => Brace(s, 0);

    private static string Brace(string s, int depth)
    {
        if (depth > MaxDepth)
        {
            return s;
        }

        var sb = new StringBuilder(s.Length + 8);
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '\\' && i + 1 < s.Length && char.IsAsciiLetter(s[i + 1]))
            {
                string name = LatexScanner.ReadCommandName(s, i);
                sb.Append('\\').Append(name);
                i += name.Length + 1;
                if (ArgumentCounts.TryGetValue(name, out int count))
                {
                    i = name == "sqrt" ? CopyRootIndex(s, i, sb) : i;
                    for (int k = 0; k < count; k++)
                    {
                        i = AppendArgument(s, i, sb, depth);
                    }
                }
            }
            else if (c == '\\' && i + 1 < s.Length)
            {
                sb.Append(c).Append(s[i + 1]);
                i += 2;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }

        return sb.ToString();
    }

    private static int CopyRootIndex(string s, int i, StringBuilder sb)
    {
        int j = SkipSpaces(s, i);
        if (j >= s.Length || s[j] != '[')
        {
            return i;
        }

        int close = s.IndexOf(']', j);
        if (close < 0)
        {
            return i;
        }

        sb.Append(s, j, close - j + 1);
        return close + 1;
    }

    private static int AppendArgument(string s, int i, StringBuilder sb, int depth)
    {
        int j = SkipSpaces(s, i);
        if (j >= s.Length)
        {
            return i;
        }

        if (s[j] == '{')
        {
            int close = LatexScanner.FindClosingBrace(s, j);
            if (close < 0)
            {
                return i;
            }

            sb.Append('{').Append(Brace(s[(j + 1)..close], depth + 1)).Append('}');
            return close + 1;
        }

        if (s[j] == '\\' && j + 1 < s.Length && char.IsAsciiLetter(s[j + 1]))
        {
            string name = LatexScanner.ReadCommandName(s, j);
            sb.Append("{\\").Append(name).Append('}');
            return j + name.Length + 1;
        }

        if (char.IsAsciiLetterOrDigit(s[j]))
        {
            sb.Append('{').Append(s[j]).Append('}');
            return j + 1;
        }

        return i;
    }

    private static int SkipSpaces(string s, int i)
    {
        while (i < s.Length && s[i] == ' ')
        {
            i++;
        }

        return i;
    }
}

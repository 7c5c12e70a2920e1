using System.Text;

namespace ReMA.Tasks.Verification;

/// <summary>
/// Bracket-aware scanning of LaTeX strings: matching braces, splitting at top-level separators
/// and measuring nesting depth. Escaped characters (<c>\{</c>, <c>\}</c>, <c>\\</c>) never open or close a brace group.
/// </summary>
internal static class LatexScanner
{
    /// <summary>Returns the index of the <c>}</c> closing the group opened at <paramref name="openIndex"/>, or -1.</summary>
    public static int FindClosingBrace(string s, int openIndex)
    {
        int depth = 0;
        for (int i = openIndex; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '\\')
            {
                i++;
            }
            else if (c == '{')
            {
                depth++;
            }
            else if (c == '}')
            {
                depth--;
                if (depth == 0)
                {
                    return i;
                }
            }
        }

        return -1;
    }

    /// <summary>
    /// Returns the index closing the bracket group that starts at <paramref name="openIndex"/>, treating
    /// <c>( [ { \{</c> as openers and <c>) ] } \}</c> as closers regardless of kind (so half-open intervals match), or -1.
    /// </summary>
    public static int FindClosingBracket(string s, int openIndex)
    {
        int depth = 0;
        for (int i = openIndex; i < s.Length; i++)
        {
            int delta = BracketDelta(s, i, out int width);
            depth += delta;
            if (delta < 0 && depth == 0)
            {
                return i + width - 1;
            }

            i += width - 1;
        }

        return -1;
    }

    /// <summary>Splits <paramref name="s"/> at occurrences of <paramref name="separator"/> that lie outside every bracket.</summary>
    public static List<string> SplitTopLevel(string s, string separator)
    {
        var parts = new List<string>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (depth == 0 && string.CompareOrdinal(s, i, separator, 0, separator.Length) == 0 && !ContinuesCommand(s, i, separator))
            {
                parts.Add(s[start..i]);
                i += separator.Length - 1;
                start = i + 1;
                continue;
            }

            depth = System.Math.Max(0, depth + BracketDelta(s, i, out int width));
            i += width - 1;
        }

        parts.Add(s[start..]);
        return parts;
    }

    /// <summary>Returns the deepest bracket nesting found in <paramref name="s"/>.</summary>
    public static int MaxDepth(string s)
    {
        int depth = 0;
        int max = 0;
        for (int i = 0; i < s.Length; i++)
        {
            depth = System.Math.Max(0, depth + BracketDelta(s, i, out int width));
            max = System.Math.Max(max, depth);
            i += width - 1;
        }

        return max;
    }

    /// <summary>Reads a LaTeX command name (letters) starting after the backslash at <paramref name="backslashIndex"/>.</summary>
    public static string ReadCommandName(string s, int backslashIndex)
    {
        int end = backslashIndex + 1;
        while (end < s.Length && char.IsAsciiLetter(s[end]))
        {
            end++;
        }

        return s[(backslashIndex + 1)..end];
    }

    /// <summary>Removes every whitespace character except one space that separates a LaTeX command from a following letter.</summary>
    public static string RemoveWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (!char.IsWhiteSpace(c))
            {
                sb.Append(c);
                continue;
            }

            int next = i;
            while (next < s.Length && char.IsWhiteSpace(s[next]))
            {
                next++;
            }

            if (next < s.Length && char.IsAsciiLetter(s[next]) && EndsWithCommand(sb))
            {
                sb.Append(' ');
            }

            i = next - 1;
        }

        return sb.ToString();
    }

    private static bool EndsWithCommand(StringBuilder sb)
    {
        int i = sb.Length - 1;
        while (i >= 0 && char.IsAsciiLetter(sb[i]))
        {
            i--;
        }

        return i >= 0 && i < sb.Length - 1 && sb[i] == '\\' && (i == 0 || sb[i - 1] != '\\');
    }

    private static bool ContinuesCommand(string s, int index, string separator)
    {
        int after = index + separator.Length;
        return separator[0] == '\\' && char.IsAsciiLetter(separator[^1]) && after < s.Length && char.IsAsciiLetter(s[after]);
    }

    private static int BracketDelta(string s, int i, out int width)
    {
        width = 1;
        char c = s[i];
        if (c == '\\' && i + 1 < s.Length)
        {
            width = 2;
            return s[i + 1] switch
            {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
        }

        return c switch
        {
            '(' or '[' or '{' => 1,
            ')' or ']' or '}' => -1,
            _ => 0,
        };
    }
}

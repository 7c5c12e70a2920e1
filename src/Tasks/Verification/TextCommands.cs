using System.Collections.Frozen;
using System.Text;

namespace ReMA.Tasks.Verification;

/// <summary>
/// Unwraps text, font and box commands (<c>\text{...}</c>, <c>\textbf</c>, <c>\mbox</c>, <c>\mathrm</c>, <c>\mathbf</c>, <c>\boxed</c>, ...),
/// keeping their content, except a unit phrase after a value (<c>5\text{ cm}^2</c>), which is dropped with its power.
/// </summary>
internal static class TextCommands
{
    private const int MaxDepth = 16;

    private static readonly FrozenSet<string> Wrappers = new[]
    {
        "text", "textbf", "textit", "textrm", "textnormal", "textsf", "texttt", "mbox", "hbox",
        "mathrm", "mathbf", "mathit", "mathsf", "mathtt", "mathnormal", "boldsymbol", "bm", "emph", "boxed", "fbox",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Returns <paramref name="s"/> with its text commands replaced by their (space-padded) content.</summary>
    public static string Unwrap(string s) => Unwrap(s, 0);

    private static string Unwrap(string s, int depth)
    {
        if (depth > MaxDepth || !s.Contains('\\', StringComparison.Ordinal))
        {
            return s;
        }

        var sb = new StringBuilder(s.Length);
        int i = 0;
        while (i < s.Length)
        {
            if (s[i] != '\\' || i + 1 >= s.Length)
            {
                sb.Append(s[i]);
                i++;
                continue;
            }

            string name = LatexScanner.ReadCommandName(s, i);
            int open = i + name.Length + 1;
            while (open < s.Length && s[open] == ' ')
            {
                open++;
            }

            int close = Wrappers.Contains(name) && open < s.Length && s[open] == '{' ? LatexScanner.FindClosingBrace(s, open) : -1;
            if (close < 0)
            {
                int width = name.Length == 0 ? 2 : name.Length + 1;
                sb.Append(s, i, width);
                i += width;
                continue;
            }

            string content = Unwrap(s[(open + 1)..close], depth + 1);
            i = close + 1;
            if (Units.IsUnitPhrase(content) && sb.ToString().Trim().Length > 0)
            {
                i += Units.PowerLengthAt(s, i);
                continue;
            }

            sb.Append(' ').Append(content).Append(' ');
        }

        return sb.ToString();
    }
}

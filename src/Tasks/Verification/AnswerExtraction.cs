using System.Text.RegularExpressions;

namespace ReMA.Tasks.Verification;

/// <summary>Pulls the final answer out of a worked solution or a model response.</summary>
public static partial class AnswerExtraction
{
    private static readonly string[] BoxCommands = ["\\boxed", "\\fbox"];

    /// <summary>
    /// Returns the content of the last <c>\boxed{...}</c> or <c>\fbox{...}</c> in <paramref name="text"/> (nested braces balanced),
    /// or the single token of the brace-less form <c>\boxed 5</c>; null when there is none or its braces never close.
    /// </summary>
    public static string? ExtractBoxed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int start = -1;
        string command = "";
        foreach (string candidate in BoxCommands)
        {
            int index = LastCommandIndex(text, candidate);
            if (index > start)
            {
                start = index;
                command = candidate;
            }
        }

        return start < 0 ? null : ReadArgument(text, start + command.Length);
    }

    /// <summary>
    /// Fallback for responses without a box: the answer stated on the last line such as "The answer is 42",
    /// "Final answer: 42" or "answer: $x=3$." (math delimiters, markdown bold and the closing period removed); null when none.
    /// </summary>
    public static string? ExtractFinalAnswerLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? answer = null;
        foreach (Match match in AnswerPhrase().Matches(text))
        {
            string candidate = CleanAnswerLine(InnermostRest(match.Groups["rest"].Value));
            if (candidate.Length > 0)
            {
                answer = candidate;
            }
        }

        return answer;
    }

    /// <summary>Returns the boxed answer, or (when <paramref name="fallbackToFinalLine"/> is set) the final-answer line; null when neither exists.</summary>
    public static string? Extract(string text, bool fallbackToFinalLine)
    {
        string? boxed = ExtractBoxed(text);
        return boxed ?? (fallbackToFinalLine ? ExtractFinalAnswerLine(text) : null);
    }

    private static int LastCommandIndex(string text, string command)
    {
        int index = text.LastIndexOf(command, StringComparison.Ordinal);
        while (index >= 0)
        {
            int after = index + command.Length;
            if (after >= text.Length || !char.IsAsciiLetter(text[after]))
            {
                return index;
            }

            index = index == 0 ? -1 : text.LastIndexOf(command, index - 1, StringComparison.Ordinal);
        }

        return -1;
    }

    private static string? ReadArgument(string text, int position)
    {
        int i = position;
        while (i < text.Length && text[i] == ' ')
        {
            i++;
        }

        if (i < text.Length && text[i] == '{')
        {
            int close = LatexScanner.FindClosingBrace(text, i);
            return close < 0 ? null : text[(i + 1)..close].Trim();
        }

        if (i >= text.Length)
        {
            return null;
        }

        int end = i;
        while (end < text.Length && !char.IsWhiteSpace(text[end]) && text[end] != '$')
        {
            end++;
        }

        string token = text[i..end].TrimEnd('.', ',');
        return token.Length == 0 ? null : token;
    }

    private static string InnermostRest(string rest)
    {
        Match inner = AnswerPhrase().Match(rest);
        while (inner.Success && inner.Groups["rest"].Length > 0)
        {
            rest = inner.Groups["rest"].Value;
            inner = AnswerPhrase().Match(rest);
        }

        return rest;
    }

    private static string CleanAnswerLine(string rest)
    {
        string s = rest.Trim().Replace("**", "", StringComparison.Ordinal).Trim();
        Match math = LeadingMath().Match(s);
        if (math.Success)
        {
            return math.Groups["body"].Value.Trim();
        }

        s = TrailingCourtesy().Replace(s, "");
        return s.Trim().TrimEnd('.', ',', ';').Trim().Trim('$').Trim();
    }

    [GeneratedRegex(@"\b(?:final\s+answer|answer)\b\s*(?:is\b\s*:?|:|=)[ \t]*(?<rest>[^\r\n]*)", RegexOptions.IgnoreCase, 200)]
    private static partial Regex AnswerPhrase();

    [GeneratedRegex(@"^(?:\$\$(?<body>.+?)\$\$|\$(?<body>[^$]+)\$|\\\((?<body>.+?)\\\)|\\\[(?<body>.+?)\\\])", RegexOptions.None, 200)]
    private static partial Regex LeadingMath();

    [GeneratedRegex(@"\.?\s*I hope it is correct\.?\s*$", RegexOptions.IgnoreCase, 200)]
    private static partial Regex TrailingCourtesy();
}

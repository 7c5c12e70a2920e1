using System.Text.RegularExpressions;

namespace ReMA.Tasks.Verification;

/// <summary>How a response's final answer is found: only in boxes, or leniently (boxes first, then the rules of <see cref="AnswerExtraction.Lenient"/>).</summary>
public enum ExtractionMode
{
    Boxed,
    Lenient,
}

/// <summary>A final answer taken from a text, and the rule that found it (box, boxes, answer-phrase, whole, math-span, last-number).</summary>
public sealed record ExtractedAnswer(string Text, string Rule);

/// <summary>Pulls the final answer out of a worked solution or a model response.</summary>
public static partial class AnswerExtraction
{
    /// <summary>
    /// The final answer of <paramref name="text"/>. In order of precedence:
    /// <list type="number">
    /// <item>box: the last <c>\boxed{}</c>/<c>\fbox{}</c>; boxes: it and the boxes right before it, separated only by
    /// commas, semicolons, "and"/"or", spaces or math delimiters, read as a list (<c>\boxed{1}\boxed{2}</c> is "1, 2", never 12);</item>
    /// <item>answer-phrase (lenient): the last "answer is / answer: / final answer: / Answer $9$" statement, or the math
    /// before "is our answer / is the answer"; a stated answer that is itself prose ("The largest $n$ is 34") is
    /// narrowed to what follows its last "is", then to its last math span or number;</item>
    /// <item>whole (lenient): the whole text, when it is an answer rather than prose (no word of three or more letters
    /// outside math and LaTeX commands besides percent words, units, "and"/"or"; or a single word with no digit, such as "Monday");</item>
    /// <item>math-span (lenient): the last <c>$...$</c>, <c>$$...$$</c>, <c>\(...\)</c> or <c>\[...\]</c>;</item>
    /// <item>assignments (lenient): "x=3, y=-1" ending the text outside math; last-number: the last number (or the list of
    /// numbers ending the text: "2, 3, 5, and 7"), whichever of math span and number the text states last;</item>
    /// <item>choice (lenient): the last "(A)".."(E)" in a text with neither math nor numbers.</item>
    /// </list>
    /// Null when none applies (boxed mode without a box; lenient mode with prose and no math or number), and when the
    /// last box is cut off (its braces never close). Only the last <see cref="MaxResponseLength"/> characters are read.
    /// </summary>
    public static ExtractedAnswer? ExtractFinal(string text, ExtractionMode mode)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxResponseLength)
        {
            text = text[^MaxResponseLength..];   // a final answer is at the end; this bounds every rule's work
        }
        ExtractedAnswer? boxed = Boxes(text, out bool unclosed);
        if (unclosed)
        {
            return null;   // the response was cut off inside its last box: no answer, whatever came before
        }
        return boxed ?? (mode == ExtractionMode.Boxed ? null : Lenient(text));
    }

    /// <summary>
    /// The gold side of a comparison: a full worked solution (one with a box, or prose of six words or more) gets the
    /// lenient extraction; a bare answer is taken whole.
    /// </summary>
    public static ExtractedAnswer ExtractGold(string gold)
    {
        ArgumentNullException.ThrowIfNull(gold);
        if (Boxes(gold, out _) is ExtractedAnswer boxed)
        {
            return boxed;
        }
        return ProseWords(gold) >= 6 && Lenient(gold) is ExtractedAnswer stated ? stated : new ExtractedAnswer(gold.Trim(), "whole");
    }

    private static ExtractedAnswer? Lenient(string text)
    {
        if (ExtractFinalAnswerLine(text) is string stated)
        {
            return new ExtractedAnswer(stated, "answer-phrase");
        }
        if (AnswerBefore().Matches(text) is { Count: > 0 } before)
        {
            string value = before[^1].Groups["value"].Value;
            return new ExtractedAnswer(LastMath(value) ?? value.Trim(), "answer-phrase");
        }
        string trimmed = text.Trim();
        if (IsBareAnswer(trimmed))
        {
            return new ExtractedAnswer(trimmed, "whole");
        }
        (string Text, int Start, int End)? math = LastMathList(text);
        (string Text, int Start)? numbers = LastNumberList(text);
        Match assignments = TrailingAssignments().Match(text.Length > 400 ? text[^400..] : text);
        // Whichever the text states last: "$n$ can be 2 or 4 or 6" ends in numbers, not in the span naming n.
        int assignmentsAt = assignments.Index + Math.Max(0, text.Length - 400);
        if (assignments.Success && (math is null || assignmentsAt >= math.Value.End))
        {
            return new ExtractedAnswer(assignments.Groups["list"].Value, "assignments");
        }
        if (math is not null && (numbers is null || numbers.Value.Start < math.Value.End))
        {
            return new ExtractedAnswer(math.Value.Text, "math-span");
        }
        if (numbers is not null)
        {
            return new ExtractedAnswer(numbers.Value.Text, "last-number");
        }
        return ChoiceLetter().Matches(text) is { Count: > 0 } choices ? new ExtractedAnswer(choices[^1].Value, "choice") : null;
    }

    /// <summary>
    /// A text that is an answer rather than prose: one math span and nothing else, or no math delimiters and no word of
    /// two or more letters outside LaTeX commands besides percent words, units, "and"/"or"; or a single word with no
    /// digit (a text answer such as "Monday").
    /// </summary>
    private static bool IsBareAnswer(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }
        if (MathSpan().Match(text) is { Success: true } only && only.Index == 0 && only.Length == text.TrimEnd('.').Length)
        {
            return true;
        }
        if (MathSpan().IsMatch(text))
        {
            return false;
        }
        int words = ProseWords(text, minimumLetters: 2);
        return words == 0 || (words == 1 && ProseWords(text) == 1 && !text.Any(char.IsAsciiDigit) && text.Length <= 40);
    }

    /// <summary>The last box, with the boxes right before it when only separators stand between them.</summary>
    private static ExtractedAnswer? Boxes(string text, out bool unclosed)
    {
        unclosed = false;
        var boxes = new List<(int Start, int End, string Content)>();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                continue;
            }
            foreach (string command in BoxCommands)
            {
                int after = i + command.Length;
                if (string.CompareOrdinal(text, i, command, 0, command.Length) == 0 && (after >= text.Length || !char.IsAsciiLetter(text[after])))
                {
                    (string? content, int end) = ReadArgumentSpan(text, after);
                    if (content is not null)
                    {
                        boxes.Add((i, end, content));
                        i = end - 1;
                    }
                    unclosed = content is null;   // a box cut off (its braces never close) after the last whole one
                    break;
                }
            }
        }
        if (boxes.Count == 0)
        {
            return null;
        }
        int first = boxes.Count - 1;
        while (first > 0 && BoxSeparator().IsMatch(text[boxes[first - 1].End..boxes[first].Start]))
        {
            first--;
        }
        return first == boxes.Count - 1
            ? new ExtractedAnswer(boxes[^1].Content, "box")
            : new ExtractedAnswer(string.Join(", ", boxes.Skip(first).Select(b => b.Content)), "boxes");
    }

    /// <summary>Words of three or more letters outside math spans and LaTeX commands, not counting percent words, units, "and", "or".</summary>
    private static int ProseWords(string text, int minimumLetters = 3)
    {
        string outside = MathSpan().Replace(text, " ");
        outside = Environments().Replace(outside, " ");
        int count = 0;
        foreach (Match word in Word().Matches(outside))
        {
            string w = word.Value.ToLowerInvariant();
            if (word.Length < minimumLetters || (word.Length == 2 && !TwoLetterWords.Contains(w)))
            {
                continue;   // "ab" in 6ab^2 is a product of variables; "so" and "is" are prose
            }
            if (w is not ("and" or "or" or "percent" or "percentage" or "pct" or "cent") && !Units.IsUnitPhrase(w))
            {
                count++;
            }
        }
        return count;
    }

    private static string? LastMath(string text)
    {
        MatchCollection spans = MathSpan().Matches(text);
        for (int i = spans.Count - 1; i >= 0; i--)
        {
            string body = spans[i].Groups["body"].Value.Trim();
            if (body.Length > 0)
            {
                return body;
            }
        }
        return null;
    }

    /// <summary>The last math span, with the spans right before it when only separators ("and", commas, "x =") stand between them.</summary>
    private static (string Text, int Start, int End)? LastMathList(string text)
    {
        var spans = MathSpan().Matches(text).Where(m => m.Groups["body"].Value.Trim().Length > 0).ToList();
        if (spans.Count == 0)
        {
            return null;
        }
        int first = spans.Count - 1;
        while (first > 0 && BoxSeparator().IsMatch(text[(spans[first - 1].Index + spans[first - 1].Length)..spans[first].Index]))
        {
            first--;
        }
        return (string.Join(", ", spans.Skip(first).Select(m => m.Groups["body"].Value.Trim())), spans[first].Index, spans[^1].Index + spans[^1].Length);
    }

    /// <summary>The last number, with the numbers right before it when the text ends in a list of them ("2, 3, 5, and 7.").</summary>
    private static (string Text, int Start)? LastNumberList(string text)
    {
        var numbers = Number().Matches(text).ToList();
        if (numbers.Count == 0)
        {
            return null;
        }
        int first = numbers.Count - 1;
        while (first > 0 && NumberSeparator().IsMatch(text[(numbers[first - 1].Index + numbers[first - 1].Length)..numbers[first].Index]))
        {
            first--;
        }
        return (string.Join(", ", numbers.Skip(first).Select(m => m.Value)), numbers[first].Index);
    }

    /// <summary>
    /// The answer inside a stated answer that is itself prose: a leading value ("10, which is 2 more than 8" is 10);
    /// else the value right after the first "is" ("The largest $n$ is 34, which is even" is 34), or all that follows it
    /// when that is bare ("The distance is 27 miles"); else the statement's last math or number.
    /// </summary>
    private static string Narrow(string statement)
    {
        if (LeadingValue(statement) is string leading)
        {
            return leading;
        }
        int isAt = statement.IndexOf(" is ", StringComparison.OrdinalIgnoreCase);
        if (isAt >= 0)
        {
            string after = CleanAnswerLine(statement[(isAt + 4)..]);
            if (after.Length > 0 && ProseWords(after) == 0)
            {
                return after;
            }
            if (LeadingValue(after) is string value)
            {
                return value;
            }
        }
        return LastMath(statement) ?? LastNumber(statement) ?? statement;
    }

    /// <summary>A number or math span that starts <paramref name="text"/> (followed by a comma, a space or its end); null otherwise.</summary>
    private static string? LeadingValue(string text)
    {
        string t = text.TrimStart();
        if (LeadingMath().Match(t) is { Success: true } math)
        {
            return math.Groups["body"].Value.Trim();
        }
        Match number = Number().Match(t);
        return number.Success && number.Index == 0 && (number.Length == t.Length || t[number.Length] is ',' or ' ' or ';') ? number.Value : null;
    }

    private static string? LastNumber(string text)
    {
        MatchCollection numbers = Number().Matches(text);
        return numbers.Count == 0 ? null : numbers[^1].Value;
    }
    private static readonly string[] BoxCommands = ["\\boxed", "\\fbox"];

    /// <summary>The tail of a response that extraction reads (characters).</summary>
    public const int MaxResponseLength = 20_000;

    /// <summary>Two-letter English words that mark a text as prose (other two-letter runs are usually products of variables).</summary>
    private static readonly HashSet<string> TwoLetterWords = ["so", "is", "it", "we", "be", "as", "at", "by", "of", "on", "to", "if", "an", "my", "us", "he", "me", "up", "do", "go", "am", "no"];

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
            if (ProseWords(candidate) > 1 || (ProseWords(candidate) == 1 && candidate.Any(char.IsAsciiDigit)))
            {
                candidate = Narrow(candidate);
            }
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

    private static string? ReadArgument(string text, int position) => ReadArgumentSpan(text, position).Content;

    /// <summary>The argument at <paramref name="position"/> (braced, or one token) and the index just past it.</summary>
    private static (string? Content, int End) ReadArgumentSpan(string text, int position)
    {
        int i = position;
        while (i < text.Length && text[i] == ' ')
        {
            i++;
        }

        if (i < text.Length && text[i] == '{')
        {
            int close = LatexScanner.FindClosingBrace(text, i);
            return close < 0 ? (null, i) : (text[(i + 1)..close].Trim(), close + 1);
        }

        if (i >= text.Length)
        {
            return (null, i);
        }

        int end = i;
        while (end < text.Length && !char.IsWhiteSpace(text[end]) && text[end] != '$')
        {
            end++;
        }

        string token = text[i..end].TrimEnd('.', ',');
        return (token.Length == 0 ? null : token, end);
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
            // "$a = 2$ and $b = 5$.": every span of a list that starts the statement.
            return LastMathList(s) is { } list && list.Start == 0 && BoxSeparator().IsMatch(TrailingCourtesy().Replace(s[list.End..], "").TrimEnd('.', ' '))
                ? list.Text
                : math.Groups["body"].Value.Trim();
        }

        s = TrailingCourtesy().Replace(s, "");
        return s.Trim().TrimEnd('.', ',', ';').Trim().Trim('$').Trim();
    }

    [GeneratedRegex(@"\b(?:final\s+answer|answer)\b\s*(?:is\b\s*:?|:|=|(?=\$|\\\(|\\\[))[ \t]*(?<rest>[^\r\n]*)", RegexOptions.IgnoreCase, 200)]
    private static partial Regex AnswerPhrase();

    /// <summary>"$x \le 2$ is our answer", "so 17 is the final answer".</summary>
    [GeneratedRegex(@"(?<value>\$\$[^$]+\$\$|\$[^$]+\$|\\\(.+?\\\)|[^\s$]*\d[^\s$]*)\s+is\s+(?:our|the|my)\s+(?:final\s+)?answer\b", RegexOptions.IgnoreCase, 200)]
    private static partial Regex AnswerBefore();

    /// <summary>What may stand between two boxes (or math spans) of one list: commas, "and"/"or", spaces, math delimiters, "x =".</summary>
    [GeneratedRegex(@"^(?:[\s,;$~]|\\[,;:! ]|\\q?quad(?![a-zA-Z])|\b(?:and|or)\b|\\text\{\s*(?:and|or|,)?\s*\}|\b[a-zA-Z]\s*=)*$", RegexOptions.IgnoreCase, 200)]
    private static partial Regex BoxSeparator();

    /// <summary>Between two numbers of a list: a comma with spaces, optionally "and"/"or" (", and", " or ").</summary>
    [GeneratedRegex(@"^(?:,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+)$", RegexOptions.IgnoreCase, 200)]
    private static partial Regex NumberSeparator();

    [GeneratedRegex(@"\$\$(?<body>.+?)\$\$|(?<!\\)\$(?<body>(?:\\\$|[^$])+?)(?<!\\)\$|\\\((?<body>.+?)\\\)|\\\[(?<body>.+?)\\\]", RegexOptions.Singleline, 200)]
    private static partial Regex MathSpan();

    [GeneratedRegex(@"\\(?:begin|end)\{[^{}]*\}(?:\{[^{}]*\})?|\\[a-zA-Z]+", RegexOptions.None, 200)]
    private static partial Regex Environments();

    [GeneratedRegex(@"(?<![a-zA-Z\\])[a-zA-Z]{2,}", RegexOptions.None, 200)]
    private static partial Regex Word();

    /// <summary>"x=3, y=-1" (or "a = 2 and b = 5") ending the text, outside math: assignments of numbers to single letters.</summary>
    [GeneratedRegex(@"(?<![\w\\])(?<list>[a-zA-Z](?> *)=(?> *)-?\d+(?:\.\d+)?(?:(?> *)(?:,(?> *)(?:and +)?| and +)[a-zA-Z](?> *)=(?> *)-?\d+(?:\.\d+)?)+)(?> *)[.!]?(?>\s*)$", RegexOptions.None, 200)]
    private static partial Regex TrailingAssignments();

    /// <summary>A multiple-choice letter in parentheses, "(B)", in a text with no math and no number.</summary>
    [GeneratedRegex(@"\([A-E]\)", RegexOptions.None, 200)]
    private static partial Regex ChoiceLetter();

    [GeneratedRegex(@"(?:(?<![\w)\]])-)?\d+(?:,\d{3}(?!\d))*(?:[.,]\d+)?(?:/\d+)?", RegexOptions.None, 200)]
    private static partial Regex Number();

    [GeneratedRegex(@"^(?:\$\$(?<body>.+?)\$\$|(?<!\\)\$(?<body>(?:\\\$|[^$])+?)(?<!\\)\$|\\\((?<body>.+?)\\\)|\\\[(?<body>.+?)\\\])", RegexOptions.None, 200)]
    private static partial Regex LeadingMath();

    [GeneratedRegex(@"\.?\s*I hope it is correct\.?\s*$", RegexOptions.IgnoreCase, 200)]
    private static partial Regex TrailingCourtesy();
}

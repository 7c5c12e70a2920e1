namespace ReMA.Tasks.Answers;

/// <summary>Reads the final answer from a solution: the content of the last <c>\boxed{...}</c> (nested braces allowed).</summary>
public static class BoxedAnswer
{
    private const string Marker = "\\boxed";

    /// <summary>The last boxed content, or null when the text has no complete <c>\boxed{...}</c>.</summary>
    public static string? ExtractLast(string text)
    {
        int at = text.LastIndexOf(Marker, StringComparison.Ordinal);
        while (at >= 0)
        {
            string? content = ReadBraced(text, at + Marker.Length);
            if (content is not null)
            {
                return content.Trim();
            }
            at = at == 0 ? -1 : text.LastIndexOf(Marker, at - 1, StringComparison.Ordinal);
        }
        return null;
    }

    /// <summary>Content of the brace group opening at <paramref name="start"/> (after optional spaces), or null if unbalanced.</summary>
    private static string? ReadBraced(string text, int start)
    {
        int i = start;
        while (i < text.Length && text[i] == ' ')
        {
            i++;
        }
        if (i >= text.Length || text[i] != '{')
        {
            return null;
        }
        int depth = 0;
        for (int j = i; j < text.Length; j++)
        {
            if (text[j] == '{')
            {
                depth++;
            }
            else if (text[j] == '}' && --depth == 0)
            {
                return text[(i + 1)..j];
            }
        }
        return null;
    }
}

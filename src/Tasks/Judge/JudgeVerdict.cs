namespace ReMA.Tasks.Judge;

/// <summary>Reads a judge's verdict: exactly one of [[A]] or [[B]]; anything else (none, both) is invalid.</summary>
public static class JudgeVerdict
{
    public static string? Parse(string text)
    {
        bool a = text.Contains("[[A]]", StringComparison.Ordinal);
        bool b = text.Contains("[[B]]", StringComparison.Ordinal);
        return a == b ? null : a ? "A" : "B";
    }
}

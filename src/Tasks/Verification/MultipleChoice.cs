using System.Text.RegularExpressions;

namespace ReMA.Tasks.Verification;

/// <summary>Recognises multiple-choice answers written as a capital letter: <c>A</c>, <c>(A)</c>, <c>A)</c>, <c>(A).</c>.</summary>
internal static partial class MultipleChoice
{
    /// <summary>True when the normalised answer is a choice letter, returned in <paramref name="letter"/>.</summary>
    public static bool TryParse(string s, out char letter)
    {
        Match match = ChoiceLetter().Match(s);
        letter = match.Success ? match.Groups["letter"].Value[0] : '\0';
        return match.Success;
    }

    [GeneratedRegex(@"^\(?(?<letter>[A-Z])\)?[.:]?$", RegexOptions.None, 200)]
    private static partial Regex ChoiceLetter();
}

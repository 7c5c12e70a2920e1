using System.Text.RegularExpressions;

namespace ReMA.Tasks.Verification;

/// <summary>Recognises unit words (cm, inches, degrees, dollars, ...) so they can be dropped from numeric answers.</summary>
internal static partial class Units
{
    private const string AnyUnit =
        "units?|cm|centimet(?:er|re)s?|mm|millimet(?:er|re)s?|km|kilomet(?:er|re)s?|m|met(?:er|re)s?|inch(?:es)?|in|feet|foot|ft|"
        + "yards?|yd|miles?|mi|mph|seconds?|secs?|s|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|degrees?|deg|"
        + "radians?|rad|dollars?|cents?|pounds?|lbs?|ounces?|oz|grams?|g|kilograms?|kg|lit(?:er|re)s?|gallons?|ml|mL|"
        + "people|persons?|students?|ways|points?|sq";

    private const string MultiLetterUnit = "units?|cm|mm|km|inch(?:es)?|feet|ft|degrees?|dollars?|cents?|met(?:er|re)s?|mph|kg";

    private const string Power = @"(?:\s*\^\s*\{?\s*[23]\s*\}?)?";

    /// <summary>True when <paramref name="text"/> (e.g. the content of <c>\text{ cm}</c>) is only a unit phrase.</summary>
    public static bool IsUnitPhrase(string text) => UnitPhrase().IsMatch(text);

    /// <summary>Length of a <c>^2</c>/<c>^{3}</c> power that follows a dropped unit at <paramref name="index"/>, or 0.</summary>
    public static int PowerLengthAt(string text, int index)
    {
        Match match = LeadingPower().Match(text, index);
        return match.Success && match.Index == index ? match.Length : 0;
    }

    /// <summary>Removes one trailing unit phrase (e.g. <c>5 square inches</c> to <c>5</c>) when something precedes it.</summary>
    public static string StripTrailing(string s)
    {
        foreach (Regex regex in new[] { TrailingSpacedUnit(), TrailingAdjacentUnit() })
        {
            Match match = regex.Match(s);
            if (match.Success && s[..match.Index].Trim().Length > 0)
            {
                return s[..match.Index];
            }
        }

        return s;
    }

    [GeneratedRegex(@"^\s*(?:(?:square|sq\.?|cubic)\s+)?(?:" + AnyUnit + @")\.?\s*$", RegexOptions.None, 200)]
    private static partial Regex UnitPhrase();

    [GeneratedRegex(@"\G\s*\^\s*(?:\{\s*[23]\s*\}|[23])", RegexOptions.None, 200)]
    private static partial Regex LeadingPower();

    [GeneratedRegex(@"\s+(?:(?:square|sq\.?|cubic)\s+)?(?:" + AnyUnit + ")" + Power + @"\s*$", RegexOptions.None, 200)]
    private static partial Regex TrailingSpacedUnit();

    [GeneratedRegex(@"(?<=\d)(?:" + MultiLetterUnit + ")" + Power + @"\s*$", RegexOptions.None, 200)]
    private static partial Regex TrailingAdjacentUnit();
}

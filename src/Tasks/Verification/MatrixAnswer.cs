using System.Text.RegularExpressions;

namespace ReMA.Tasks.Verification;

/// <summary>Reads <c>\begin{pmatrix}...\end{pmatrix}</c> (also bmatrix, Bmatrix, vmatrix, matrix, array) into rows of cells.</summary>
internal static partial class MatrixAnswer
{
    /// <summary>True when the normalised answer starts a matrix environment.</summary>
    public static bool LooksLikeMatrix(string s) => s.StartsWith("\\begin{", StringComparison.Ordinal) || BracketedArray().IsMatch(s);

    /// <summary>Splits a matrix into rows (at <c>\\</c>) and cells (at <c>&amp;</c>); null when <paramref name="s"/> is not a matrix.</summary>
    public static List<List<string>>? TryParse(string s)
    {
        // An array between brackets (\left[ \begin{array}{cc} ... \end{array} \right], the \left and \right already
        // removed) is the matrix written the long way; the brackets add nothing.
        Match bracketed = BracketedArray().Match(s);
        Match match = MatrixEnvironment().Match(bracketed.Success ? bracketed.Groups["array"].Value : s);
        if (!match.Success)
        {
            return null;
        }

        List<string> rows = LatexScanner.SplitTopLevel(match.Groups["body"].Value, "\\\\");
        if (rows.Count > 1 && rows[^1].Trim().Length == 0)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return rows.ConvertAll(row => LatexScanner.SplitTopLevel(row, "&").ConvertAll(cell => cell.Trim()));
    }

    [GeneratedRegex(@"^\\begin\{(?<env>[pbBvV]?matrix|array)\}(?:\{[^{}]*\})?(?<body>.*)\\end\{\k<env>\}$", RegexOptions.Singleline, 200)]
    private static partial Regex MatrixEnvironment();

    [GeneratedRegex(@"^(?:\[(?<array>\\begin\{array\}.*\\end\{array\})\]|\((?<array>\\begin\{array\}.*\\end\{array\})\))$", RegexOptions.Singleline, 200)]
    private static partial Regex BracketedArray();
}

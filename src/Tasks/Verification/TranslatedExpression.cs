namespace ReMA.Tasks.Verification;

/// <summary>An answer rewritten as an NCalc expression, with the names of the free variables it uses.</summary>
/// <param name="Text">NCalc source, e.g. <c>v_x**(2.0)+2.0*v_x</c>.</param>
/// <param name="Variables">NCalc parameter names of the free variables.</param>
/// <param name="IsExact">
/// True when the expression uses only integers and rational operations (+, -, *, /, integer powers), so its double value
/// carries only rounding error and may be compared with <see cref="NumericTolerance.ExactRelative"/>.
/// </param>
internal sealed record TranslatedExpression(string Text, IReadOnlySet<string> Variables, bool IsExact);

using System.Collections.Frozen;

namespace ReMA.Tasks.Verification;

/// <summary>LaTeX Greek letter commands that stand for variables in answers (<c>\pi</c> excluded: it is a constant).</summary>
internal static class GreekLetters
{
    /// <summary>Command names without the backslash, e.g. <c>theta</c>.</summary>
    public static readonly FrozenSet<string> Names = new[]
    {
        "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
        "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi",
        "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
    }.ToFrozenSet(StringComparer.Ordinal);
}

namespace ReMA.Tasks.Verification;

/// <summary>The outcome of comparing a reference answer with a predicted one.</summary>
/// <param name="Equivalent">True when the prediction was judged mathematically equivalent to the reference.</param>
/// <param name="TimedOut">True when the comparison ran past its time limit (then <paramref name="Equivalent"/> is false).</param>
/// <param name="GoldNormalized">The reference after normalisation (the raw input when normalisation never finished).</param>
/// <param name="PredictionNormalized">The prediction after normalisation (the raw input when normalisation never finished).</param>
/// <param name="Method">
/// The rule that decided: exact, choice, text, numeric, expression, equation, tuple, interval, set, matrix, percent when
/// equivalent (also inequality, decimal-comma); none, empty, different-variables (x = 4 against y = 4), label-order (m = 2, b = 3 against a bare
/// tuple), no-answer
/// (<see cref="MathVerifier"/>: the response states none), too-long, timeout or error otherwise.
/// </param>
public sealed record Verdict(bool Equivalent, bool TimedOut, string GoldNormalized, string PredictionNormalized, string Method);

namespace ReMA.Tasks.Verification;

/// <summary>Grades a full model response against a reference answer.</summary>
public static class MathVerifier
{
    /// <summary>
    /// Compares the bare reference answer <paramref name="gold"/> with the last <c>\boxed{...}</c> of
    /// <paramref name="response"/>, or with the whole response when it has no box.
    /// </summary>
    public static Verdict Grade(string gold, string response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return MathEquivalence.Check(gold, AnswerExtraction.ExtractBoxed(response) ?? response);
    }
}

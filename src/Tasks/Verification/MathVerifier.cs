namespace ReMA.Tasks.Verification;

/// <summary>A verdict with what was extracted from each side (null: the response stated no answer under the mode's rules).</summary>
public sealed record GradeResult(Verdict Verdict, ExtractedAnswer Gold, ExtractedAnswer? Prediction);

/// <summary>Grades a full model response against a reference answer.</summary>
public static class MathVerifier
{
    /// <summary>
    /// Extracts the final answer of <paramref name="response"/> (<see cref="AnswerExtraction.ExtractFinal"/>; lenient by
    /// default) and of <paramref name="gold"/> when it is a full solution (<see cref="AnswerExtraction.ExtractGold"/>), and
    /// compares them (<see cref="MathEquivalence.Check"/>). A response with no answer under the mode's rules is not
    /// equivalent, with method "no-answer".
    /// </summary>
    public static GradeResult Grade(string gold, string response, ExtractionMode mode = ExtractionMode.Lenient, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(response);
        ExtractedAnswer goldAnswer;
        ExtractedAnswer? predicted;
        try
        {
            goldAnswer = AnswerExtraction.ExtractGold(gold);
            predicted = AnswerExtraction.ExtractFinal(response, mode);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            // A pathological response: graded as not equivalent and timed out, never an exception for the caller.
            return new GradeResult(new Verdict(false, true, gold, "", "timeout"), new ExtractedAnswer(gold, "whole"), null);
        }
        Verdict verdict = predicted is null
            ? new Verdict(false, false, goldAnswer.Text, "", "no-answer")
            : MathEquivalence.Check(goldAnswer.Text, predicted.Text, timeout);
        return new GradeResult(verdict, goldAnswer, predicted);
    }
}

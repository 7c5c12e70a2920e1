using System.Globalization;
using ReMA.Tasks.Answers;

namespace ReMA.Tasks.Arithmetic;

/// <summary>Correctness of a final message for an arithmetic problem: 1 when the last boxed value equals the answer.</summary>
public static class ArithmeticReward
{
    public static double Score(ArithmeticProblem problem, string finalMessage)
    {
        string? boxed = BoxedAnswer.ExtractLast(finalMessage);
        return boxed is not null
            && long.TryParse(boxed.Replace(" ", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            && value == problem.Answer ? 1.0 : 0.0;
    }
}

using System.Text.RegularExpressions;
using ReMA.Tasks.Core;

namespace ReMA.Tasks.Rewards;

/// <summary>Reward functions of ReMA section 3. Plain functions of judgements and texts.</summary>
public static partial class Rewards
{
    /// <summary>
    /// Multi-turn (paper default): 1 only if the answer is correct and the episode ended because the meta agent said
    /// [FINISH]; otherwise 0. Both agents receive it.
    /// Example: MultiTurn(new Judgement(true, "5", true), finishedWithFinish: false) == 0.
    /// </summary>
    public static double MultiTurn(Judgement judgement, bool finishedWithFinish) => judgement.Correct && finishedWithFinish ? 1 : 0;

    /// <summary>Single-turn reasoner: +1 correct, -0.5 wrong but in the answer format (boxed), -1 without an answer.</summary>
    public static double SingleTurnReasoner(Judgement judgement) => judgement.Correct ? 1 : judgement.HasAnswerFormat ? -0.5 : -1;

    /// <summary>
    /// Single-turn meta agent: the mean correctness of the reasoner samples that followed its plan, or -1 when the
    /// plan itself gives an answer away (see <see cref="LeaksAnswer"/>).
    /// </summary>
    public static double SingleTurnMeta(string plan, IReadOnlyList<Judgement> reasonerSamples)
    {
        if (LeaksAnswer(plan))
        {
            return -1;
        }
        return reasonerSamples.Count == 0 ? 0 : reasonerSamples.Average(j => j.Correct ? 1.0 : 0.0);
    }

    /// <summary>A plan leaks when it holds a boxed answer or states a final answer ("the answer is ...", "final answer: ...").</summary>
    public static bool LeaksAnswer(string text) =>
        text.Contains("\\boxed", StringComparison.Ordinal) || text.Contains("\\fbox", StringComparison.Ordinal) || FinalAnswerPhrase().IsMatch(text);

    /// <summary>
    /// Optional consistency reward for the meta agent: the share of reasoner samples that reached the most common
    /// answer (samples without an answer count against it). The paper found it invites leaks; off by default.
    /// </summary>
    public static double Consistency(IReadOnlyList<Judgement> samples)
    {
        if (samples.Count == 0)
        {
            return 0;
        }
        int top = samples.Where(j => j.Extracted is not null).GroupBy(j => j.Extracted!.Trim(), StringComparer.Ordinal)
            .Select(g => g.Count()).DefaultIfEmpty(0).Max();
        return (double)top / samples.Count;
    }

    /// <summary>Format check for a reasoner's final message: exactly one \boxed{...}.</summary>
    public static bool HasSingleBox(string message) => BoxMarker().Count(message) == 1;

    /// <summary>Format check for a meta message: [FINISH] at most once, and only at the end.</summary>
    public static bool FinishIsWellPlaced(string metaMessage)
    {
        int first = metaMessage.IndexOf(Roles.Finish, StringComparison.Ordinal);
        return first < 0 || (first == metaMessage.LastIndexOf(Roles.Finish, StringComparison.Ordinal) && metaMessage.TrimEnd().EndsWith(Roles.Finish, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\b(the\s+(final\s+)?answer\s+is|final\s+answer\s*[:=])", RegexOptions.IgnoreCase, matchTimeoutMilliseconds: 1000)]
    private static partial Regex FinalAnswerPhrase();

    [GeneratedRegex(@"\\boxed\b", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex BoxMarker();
}

namespace ReMA.Tasks.Core;

/// <summary>One question with its reference answer (a bare answer: "42", "\frac{1}{2}", "A").</summary>
public sealed record Problem(string Id, string Question, string Answer, string Split)
{
    /// <summary>Optional task-specific data (for example the arithmetic expression, a judge row's label).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>How a final message was judged against a problem's answer.</summary>
public sealed record Judgement(bool Correct, string? Extracted, bool HasAnswerFormat, bool TimedOut = false)
{
    public static Judgement Missing => new(false, null, false);
}

/// <summary>One message of a demonstration conversation, from the point of view of the protocol (not of a role's view).</summary>
public sealed record DemoTurn(string Role, string Text);

/// <summary>A worked conversation for warm-start SFT: the turns in order, and the answer they reach.</summary>
public sealed record Demonstration(Problem Problem, Protocol Protocol, IReadOnlyList<DemoTurn> Turns);

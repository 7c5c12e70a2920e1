namespace ReMA.Tasks.Core;

/// <summary>
/// A named source of problems with a way to judge answers. Tasks know their splits (train, test, and any
/// out-of-distribution sets), the system prompt of each role in each protocol, how to read the final answer from
/// the reasoner's last message, and, where they can, how to produce demonstrations.
/// </summary>
public interface ITask
{
    string Name { get; }
    IReadOnlyList<string> Splits { get; }
    IReadOnlyList<Problem> Load(string split);
    string SystemPrompt(Protocol protocol, string role);
    Judgement Judge(Problem problem, string finalMessage);
}

/// <summary>
/// A task that can draw new training problems on demand instead of training on a fixed pool (the arithmetic task
/// with <c>problems: fresh</c>). When <see cref="FreshTraining"/> is on, every RL step and the SFT warm start take
/// their own draws, as a generator-backed RL setup does; the draws follow the task's distribution and may repeat a
/// question, but never hold one of the evaluation splits.
/// </summary>
public interface IFreshProblems
{
    bool FreshTraining { get; }

    /// <summary><paramref name="count"/> training problems, the same for the same (task seed, <paramref name="stream"/>).</summary>
    IReadOnlyList<Problem> DrawTraining(int count, long stream);
}

/// <summary>A task that can write worked conversations for its problems.</summary>
public interface IDemonstrationSource
{
    Demonstration Demonstrate(Problem problem, Protocol protocol);
}

/// <summary>
/// A task whose environment tracks a state that the reasoner's messages advance (the arithmetic task substitutes
/// each computed result into the expression). Episodes can then show a compact view: the current state and the latest
/// message; the initial state must therefore carry everything the question asks.
/// </summary>
public interface IStatefulTask
{
    string InitialState(Problem problem);
    /// <summary>The state after the reasoner's message, or the same state when the message does not apply to it.</summary>
    string Advance(string state, string reasonerMessage);

    /// <summary>
    /// Whether the reasoner's message is a correct step on <paramref name="state"/>: true when the operation it
    /// applies is computed correctly, false when the value is wrong or the message applies no operation of the state,
    /// null when the state has no step left to take (or cannot be read), so that no step was asked for.
    /// </summary>
    bool? CheckStep(string state, string reasonerMessage);

    /// <summary>What the meta agent reads in the compact view: the state and the reasoner's last message ("-" before any).</summary>
    string MetaView(string state, string last) => DefaultMetaView(state, last);

    /// <summary>What the reasoner reads in the compact view: the state and the meta agent's instruction.</summary>
    string ReasonerView(string state, string instruction) => DefaultReasonerView(state, instruction);

    static string DefaultMetaView(string state, string last) => $"Current: {state}\nLast: {last}";

    static string DefaultReasonerView(string state, string instruction) => $"Current: {state}\nInstruction: {instruction}";
}

/// <summary>
/// A task that can name why a multi-turn episode failed: the first turn where it went wrong, as a cause such as
/// "meta: early finish" or "reasoner: arithmetic" (<see cref="FailureCauses"/>).
/// </summary>
public interface IFailureDiagnosis
{
    /// <summary>
    /// The first cause of failure of a ReMA multi-turn episode whose turns (role and text, in order: meta, reasoner,
    /// meta, ...) are <paramref name="turns"/>; null when <paramref name="correct"/>. <paramref name="finish"/> is
    /// why the episode ended, used when no turn is at fault (a turn cut off, a view too long).
    /// </summary>
    string? FirstFailure(Problem problem, IReadOnlyList<(string Role, string Text)> turns, bool correct, string finish);

    /// <summary>
    /// Whether the meta agent's message is a right instruction for <paramref name="state"/>: finish exactly when the
    /// state is done, otherwise name an operation the state can take now; null when the state cannot be read.
    /// </summary>
    bool? CheckInstruction(string state, string metaMessage);
}

/// <summary>The failure causes of <see cref="IFailureDiagnosis"/>, by role.</summary>
public static class FailureCauses
{
    public const string MetaMalformed = "meta: malformed";
    public const string MetaUnmatched = "meta: wrong or unmatched operation";
    public const string MetaEarlyFinish = "meta: early finish";
    public const string MetaLateFinish = "meta: late finish";
    public const string ReasonerMalformed = "reasoner: malformed";
    public const string ReasonerWrongOperation = "reasoner: wrong operation";
    public const string ReasonerArithmetic = "reasoner: arithmetic";
    public const string ReasonerWrongBox = "reasoner: wrong box";

    /// <summary>A failure no turn explains, named by how the episode ended ("other: truncated").</summary>
    public static string Other(string finish) => $"other: {finish}";
}

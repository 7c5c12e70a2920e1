using ReMA.Abstractions.Policy;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Episodes;

/// <summary>How the agents see the conversation.</summary>
public enum ViewMode
{
    /// <summary>The paper's full dialogue: each role's view grows turn by turn and becomes one training row.</summary>
    Full,
    /// <summary>
    /// For stateful tasks: every turn shows the current state and the latest message only; each turn is
    /// its own training row (its context is not a prefix of the next one).
    /// </summary>
    Compact,
}

/// <summary>Limits and sampling of one episode (ReMA section 2; paper values in brackets).</summary>
public sealed record EpisodeSettings
{
    public Protocol Protocol { get; init; } = Protocol.RemaMultiTurn;
    public ViewMode View { get; init; } = ViewMode.Full;
    /// <summary>Rounds (meta then reasoner) at most [30].</summary>
    public int MaxTurns { get; init; } = 30;
    public int MaxTokensPerTurn { get; init; } = 512;
    /// <summary>A role whose view is longer than this before it speaks ends the episode [4096].</summary>
    public int MaxContextTokens { get; init; } = 4096;
    /// <summary>End the episode when a turn is cut off at MaxTokensPerTurn.</summary>
    public bool StopWhenTruncated { get; init; } = true;
    public SamplingSpec Sampling { get; init; } = new();

    public void Validate()
    {
        var errors = new List<string>();
        if (MaxTurns <= 0)
        {
            errors.Add($"max_turns must be positive (got {MaxTurns})");
        }
        if (MaxTokensPerTurn <= 0)
        {
            errors.Add($"max_tokens_per_turn must be positive (got {MaxTokensPerTurn})");
        }
        if (MaxContextTokens <= 0)
        {
            errors.Add($"max_context_tokens must be positive (got {MaxContextTokens})");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException("episode: " + string.Join("; ", errors) + ".");
        }
    }
}

/// <summary>Why an episode ended.</summary>
public static class FinishReasons
{
    public const string Finished = "finished";
    public const string MaxTurns = "max_turns";
    public const string ContextExceeded = "context_exceeded";
    public const string Truncated = "truncated";
    /// <summary>Single-turn and single-agent protocols end after their last scheduled message.</summary>
    public const string Completed = "completed";
}

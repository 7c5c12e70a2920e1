using ReMA.Abstractions.Policy;

namespace ReMA.Abstractions.Episodes;

/// <summary>What an agent needs to play its role in one episode.</summary>
[GenerateSerializer, Immutable, Alias("rema.AgentSetup")]
public sealed record AgentSetup(string Role, string SystemPrompt, string Policy, string View, string EpisodeId, string GroupId);

/// <summary>An agent's turn: the policy's reply, or none when the agent's view has outgrown the context limit.</summary>
[GenerateSerializer, Immutable, Alias("rema.AgentTurn")]
public sealed record AgentTurn(GenerateResponse? Response);

/// <summary>
/// One role of one episode (keyed by episode id): holds the role's prompt and view, asks its policy grain for each
/// turn and post-processes the reply; the episode grain routes messages between the two agents.
/// </summary>
public interface IAgentGrain : IGrainWithStringKey
{
    [Alias("Configure")]
    Task Configure(AgentSetup setup);

    /// <summary>Adds the other side's message (or the question) to the view and takes a turn.</summary>
    [Alias("Speak")]
    [ResponseTimeout("00:05:00")]
    Task<AgentTurn> Speak(string input, SamplingSpec sampling, int maxContextTokens);

    /// <summary>
    /// Adds the other side's message to the view and records <paramref name="recorded"/> as this role's turn without
    /// generating (the replayed part of a fork); false when the view has outgrown the context limit.
    /// </summary>
    [Alias("Replay")]
    Task<bool> Replay(string input, GenerateResponse recorded, int maxContextTokens);

    /// <summary>
    /// The role's training rows with the episode's reward and, when the environment checked this role's turns as steps,
    /// one step score per turn in the order the role spoke (NaN for a turn that was not a step; empty when none were
    /// checked); the agent's work is done after this.
    /// </summary>
    [Alias("Rows")]
    Task<TrajectoryRecord[]> Rows(double reward, double[] stepScores);
}

/// <summary>The meta-thinking agent: plans, monitors, and decides when to finish ([FINISH] stays in its message).</summary>
[Alias("rema.IMetaAgentGrain")]
public interface IMetaAgentGrain : IAgentGrain;

/// <summary>The reasoning agent: executes the instruction ([FINISH] is dropped from its message).</summary>
[Alias("rema.IReasonerAgentGrain")]
public interface IReasonerAgentGrain : IAgentGrain;

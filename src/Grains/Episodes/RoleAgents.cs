using ReMA.Abstractions.Policy;
using ReMA.Learner.Training;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Episodes;

/// <summary>
/// One role of one episode: it owns the role's prompt and view, asks its policy for a turn, post-processes what the
/// policy said, and in the end hands over its training rows. The episode runner only routes messages between agents.
/// In the cluster each agent is a grain (<see cref="MetaAgentGrain"/>, <see cref="ReasonerAgentGrain"/>); elsewhere
/// (tests, benchmarks, demonstration replay, rema eval) it is a <see cref="LocalRoleAgent"/>.
/// </summary>
public interface IRoleAgent
{
    string Role { get; }

    /// <summary>Adds <paramref name="input"/> to the view and takes a turn; null when the view is longer than <paramref name="maxContextTokens"/>.</summary>
    Task<GenerateResponse?> SpeakAsync(string input, SamplingSpec sampling, int maxContextTokens);

    /// <summary>Adds the input to the view and records a reply produced earlier, without generating; false when the view is too long.</summary>
    Task<bool> ReplayAsync(string input, GenerateResponse recorded, int maxContextTokens);

    /// <summary>
    /// The role's training rows with the episode's terminal reward for this role and the step score of each of its
    /// turns in speaking order (NaN for a turn that was not a step; empty when no turn of the role was checked).
    /// </summary>
    Task<IReadOnlyList<TrajectoryRow>> RowsAsync(double reward, IReadOnlyList<double> stepScores);
}

/// <summary>Creates the agents of one episode.</summary>
public interface IRoleAgentFactory
{
    IRoleAgent Create(string role, string systemPrompt, ViewMode view, string episodeId, string groupId);
}

/// <summary>What each role does with its policy's sampling request and reply (shared by local and grain agents).</summary>
public static class RoleConduct
{
    private static readonly string[] Stop = [Roles.Finish];

    /// <summary>Both roles stop at [FINISH]; the meta agent's message keeps the tag, the reasoner's drops it.</summary>
    public static SamplingSpec Sampling(string role, SamplingSpec sampling) => sampling with
    {
        StopStrings = Stop,
        IncludeStopString = role == Roles.Meta,
    };
}

/// <summary>An agent in this process: a <see cref="RoleView"/> and an <see cref="IRoleGenerator"/> to generate with.</summary>
public sealed class LocalRoleAgent(string role, string systemPrompt, ViewMode view, string episodeId, string groupId, IRoleGenerator generator) : IRoleAgent
{
    private readonly RoleView _view = new(role, systemPrompt, generator.Template(role), episodeId, groupId, view);

    public string Role => role;

    public async Task<GenerateResponse?> SpeakAsync(string input, SamplingSpec sampling, int maxContextTokens)
    {
        int[] prompt = _view.Prompt(input);
        if (prompt.Length > maxContextTokens)
        {
            return null;
        }
        GenerateResponse response = await generator.GenerateAsync(role, prompt, RoleConduct.Sampling(role, sampling));
        _view.Record(response);
        return response;
    }

    public Task<bool> ReplayAsync(string input, GenerateResponse recorded, int maxContextTokens) =>
        Task.FromResult(_view.Replay(input, recorded, maxContextTokens));

    public Task<IReadOnlyList<TrajectoryRow>> RowsAsync(double reward, IReadOnlyList<double> stepScores) =>
        Task.FromResult<IReadOnlyList<TrajectoryRow>>([.. _view.Rows(reward, stepScores)]);
}

/// <summary>Local agents over one generator (engines, policy grains or a demonstration being replayed).</summary>
public sealed class LocalRoleAgentFactory(IRoleGenerator generator) : IRoleAgentFactory
{
    public IRoleAgent Create(string role, string systemPrompt, ViewMode view, string episodeId, string groupId) =>
        new LocalRoleAgent(role, systemPrompt, view, episodeId, groupId, generator);
}

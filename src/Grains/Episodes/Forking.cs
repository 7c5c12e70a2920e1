using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Policy;

namespace ReMA.Grains.Episodes;

/// <summary>
/// Agents that replay a recorded prefix of an episode, then generate: the n-th turn the episode asks for, whichever
/// role speaks it, is <c>prefix[n]</c> while the prefix lasts (recorded into the agent's view exactly as sampled, token
/// ids and log-probs included) and a fresh generation afterwards. The episode runner asks for turns in dialogue
/// order, so the prefix must be the original's first turns in that order; a role mismatch is an error.
/// </summary>
public sealed class ForkingAgentFactory(IRoleAgentFactory inner, IReadOnlyList<RecordedTurn> prefix) : IRoleAgentFactory
{
    private int _next;

    public IRoleAgent Create(string role, string systemPrompt, ViewMode view, string episodeId, string groupId) =>
        new Agent(this, inner.Create(role, systemPrompt, view, episodeId, groupId));

    private RecordedTurn? Take(string role)
    {
        if (_next >= prefix.Count)
        {
            return null;
        }
        RecordedTurn turn = prefix[_next];
        if (turn.Role != role)
        {
            throw new InvalidOperationException($"fork: turn {_next} of the stored episode is the {turn.Role}'s, but the episode asks the {role} to speak (the stored turns are not in dialogue order).");
        }
        _next++;
        return turn;
    }

    private sealed class Agent(ForkingAgentFactory owner, IRoleAgent agent) : IRoleAgent
    {
        public string Role => agent.Role;

        public async Task<GenerateResponse?> SpeakAsync(string input, SamplingSpec sampling, int maxContextTokens)
        {
            if (owner.Take(agent.Role) is not RecordedTurn turn)
            {
                return await agent.SpeakAsync(input, sampling, maxContextTokens);
            }
            GenerateResponse recorded = turn.AsResponse();
            return await agent.ReplayAsync(input, recorded, maxContextTokens) ? recorded : null;
        }

        public Task<bool> ReplayAsync(string input, GenerateResponse recorded, int maxContextTokens) => agent.ReplayAsync(input, recorded, maxContextTokens);

        public Task<IReadOnlyList<Learner.Training.TrajectoryRow>> RowsAsync(double reward, IReadOnlyList<double> stepScores) => agent.RowsAsync(reward, stepScores);
    }
}

/// <summary>Where a campaign's episode ids point: the campaign, the step, and whether it was an evaluation episode.</summary>
public static class EpisodeIds
{
    public static string Training(string campaign, long step, int prompt, int sample) => $"{campaign}-s{step}-p{prompt}-e{sample}";

    public static string Evaluation(string campaign, long afterStep, string set, int index) => $"{campaign}-eval{afterStep}-{set}-{index}";

    /// <summary>A fork's id: the original's with a fork suffix (forks are not stored with the campaign's episodes).</summary>
    public static string Fork(string original) => $"{original}-fork-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Reads (campaign, step, evaluation) from an id of a stored training or evaluation episode.</summary>
    public static (string Campaign, long Step, bool Evaluation) Parse(string episodeId)
    {
        var training = System.Text.RegularExpressions.Regex.Match(episodeId, @"^(?<c>.+)-s(?<s>\d{1,9})-p\d+-e\d+(-retry)?$");
        if (training.Success)
        {
            return (training.Groups["c"].Value, long.Parse(training.Groups["s"].Value, System.Globalization.CultureInfo.InvariantCulture), false);
        }
        var evaluation = System.Text.RegularExpressions.Regex.Match(episodeId, @"^(?<c>.+)-eval(?<s>\d{1,9})-.+-\d+(-retry)?$");
        if (evaluation.Success)
        {
            return (evaluation.Groups["c"].Value, long.Parse(evaluation.Groups["s"].Value, System.Globalization.CultureInfo.InvariantCulture), true);
        }
        throw new ArgumentException($"episode id '{episodeId}' is not one a campaign stores: expected <campaign>-s<step>-p<prompt>-e<sample> (training) or <campaign>-eval<step>-<set>-<index> (evaluation), as `rema search` lists them.");
    }
}

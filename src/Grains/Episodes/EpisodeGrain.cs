using ReMA.Abstractions.Episodes;
using ReMA.Grains.Services;
using ReMA.Learner.Training;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Episodes;

/// <summary>
/// One episode. Not reentrant: the episode is a sequence of turns; each turn is a call to the role's agent grain
/// (MetaAgentGrain or ReasonerAgentGrain, keyed by the episode id), which asks its policy grain; while a turn waits,
/// this activation simply awaits (the policy grain batches it with other episodes' turns).
/// </summary>
// Episodes spread evenly over the silos (the default, resource-optimised placement, can leave a silo of one machine
// idle); each silo's episodes then generate on that silo's policy replica.
[Orleans.Placement.RandomPlacement]
[ReMA.Grains.Placement.SiloRole(ReMA.Grains.Placement.SiloRoles.Rollout)]
public sealed class EpisodeGrain(TaskCache tasks, IGrainFactory grains) : Grain, IEpisodeGrain
{
    Task<EpisodeOutcome> IEpisodeGrain.Run(EpisodeRequest request) => RunAsync(request, null);

    Task<EpisodeOutcome> IEpisodeGrain.Fork(EpisodeRequest request, RecordedTurn[] prefix) => RunAsync(request, prefix);

    private async Task<EpisodeOutcome> RunAsync(EpisodeRequest request, RecordedTurn[]? prefix)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ITask task = tasks.Get(request.TaskName, request.TaskOptions);
        EpisodeSettings settings = Settings(request.Settings);
        // Each role is an agent grain (meta, reasoner) keyed by this episode's id; this grain routes their messages.
        IRoleAgentFactory agents = new AgentGrainFactory(grains, request.PolicyByRole);
        if (prefix is not null)
        {
            agents = new ForkingAgentFactory(agents, prefix);
        }
        var runner = new EpisodeRunner(task, settings, agents);
        ProblemRecord p = request.Problem;
        var problem = new Problem(p.Id, p.Question, p.Answer, p.Split) { Metadata = p.Metadata };
        EpisodeResult result = await runner.RunAsync(problem, request.EpisodeId, request.GroupId);
        DeactivateOnIdle();   // an episode runs once; its activation need not stay
        return Outcome(result, clock.Elapsed.TotalSeconds);
    }

    public static EpisodeSettings Settings(EpisodeSpec s) => new()
    {
        Protocol = Roles.ParseProtocol(s.Protocol),
        View = s.View == "compact" ? ViewMode.Compact : ViewMode.Full,
        MaxTurns = s.MaxTurns,
        MaxTokensPerTurn = s.MaxTokensPerTurn,
        MaxContextTokens = s.MaxContextTokens,
        StopWhenTruncated = s.StopWhenTruncated,
        Sampling = s.Sampling,
    };

    public static EpisodeOutcome Outcome(EpisodeResult result, double seconds) =>
        new(result.EpisodeId, result.GroupId, result.ProblemId, result.FinishReason, result.Correct, result.Extracted,
            result.Rewards.ToDictionary(kv => kv.Key, kv => kv.Value),
            [.. result.Transcript.Select(t => new TranscriptRecord(t.Round, t.Role, t.Text, t.Tokens, t.FinishReason, t.PolicyVersion, t.MeanLogProb, t.StepCorrect))],
            [.. result.Rows.Select(ToRecord)],
            seconds);

    public static TrajectoryRecord ToRecord(TrajectoryRow r) =>
        new(r.EpisodeId, r.Role, r.GroupId, r.PolicyVersion, r.TokenIds, r.LossMask, r.TurnIndex, r.OldLogProbs, r.TurnRewards, r.StepScores);

    public static TrajectoryRow FromRecord(TrajectoryRecord r) => new()
    {
        EpisodeId = r.EpisodeId, Role = r.Role, GroupId = r.GroupId, PolicyVersion = r.PolicyVersion,
        TokenIds = r.TokenIds, LossMask = r.LossMask, TurnIndex = r.TurnIndex, OldLogProbs = r.OldLogProbs, TurnRewards = r.TurnRewards,
        StepScores = r.StepScores,
    };
}

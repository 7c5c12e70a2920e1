using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Policy;
using ReMA.Tasks.Core;

using ReMA.Grains.Policy;

namespace ReMA.Grains.Campaigns;

/// <summary>Names and requests derived from a campaign's configuration: its policies, learners and episodes.</summary>
public sealed class CampaignPlan(CampaignConfig config)
{
    public CampaignConfig Config => config;

    /// <summary>One policy for both roles (shared) or one per role (separate); each role's policy id.</summary>
    public IReadOnlyDictionary<string, string> PolicyOfRole { get; } = Roles.Of(Roles.ParseProtocol(config.Protocol))
        .ToDictionary(r => r, r => config.Roles.Parameters == "shared" ? $"{config.Name}.shared" : $"{config.Name}.{r}");

    public IEnumerable<string> Policies => PolicyOfRole.Values.Distinct();

    /// <summary>
    /// The policies updated at RL step <paramref name="step"/>: all of them, except with separate parameters on the
    /// alternating schedule, where one role trains for switch_every steps while the other is frozen, starting with
    /// first_role (the paper's alternative to training both agents at once).
    /// </summary>
    public IReadOnlyList<string> TrainedPolicies(long step)
    {
        if (config.Roles.Parameters != "separate" || config.Roles.Schedule != "alternating")
        {
            return [.. Policies];
        }
        string first = config.Roles.FirstRole;
        string second = PolicyOfRole.Keys.First(r => r != first);
        string active = step / config.Roles.SwitchEvery % 2 == 0 ? first : second;
        return [PolicyOfRole[active]];
    }

    /// <summary>The most policies one RL step updates (they update at the same time).</summary>
    public int PoliciesTrainedTogether => config.Roles.Parameters == "separate" && config.Roles.Schedule == "alternating" ? 1 : Policies.Count();

    /// <summary>How many of the campaign's RL steps update <paramref name="policy"/> (all of them unless alternating).</summary>
    public int UpdatesOf(string policy) => Enumerable.Range(0, config.Steps).Count(step => TrainedPolicies(step).Contains(policy));

    /// <summary>Episodes use the replica on their own silo (see <see cref="PolicyKey.Local"/>).</summary>
    public static string Replica(string policy) => PolicyKey.Replica(policy, PolicyKey.Local);

    public PolicyModel Model => new(config.Model.Path is null ? config.Model.Preset : null, config.Model.Path, config.Model.Device,
        config.Model.DType, (int)config.Seed, Math.Max(64, config.PromptsPerStep * config.GroupSize), ChatMarkup: config.Model.ChatMarkup ?? "chatml",
        TokenizerWords: string.IsNullOrWhiteSpace(config.Model.TokenizerWords) ? null : config.Model.TokenizerWords,
        ComputeThreads: config.Model.ComputeThreads);

    public string CheckpointRoot(string policy) => Path.Combine("runs", config.Name, "checkpoints", policy);

    public EpisodeSpec Spec(bool evaluation) => new(config.Protocol, config.View, config.Limits.MaxTurns, config.Limits.MaxTokensPerTurn,
        config.Limits.MaxContextTokens, config.Limits.StopWhenTruncated,
        new SamplingSpec(
            Temperature: evaluation ? config.Sampling.EvalTemperature : config.Sampling.Temperature,
            TopP: evaluation ? 1f : config.Sampling.TopP,
            TopK: evaluation ? 0 : config.Sampling.TopK,
            Seed: (ulong)config.Seed));

    public EpisodeRequest Episode(string id, string group, Problem p, bool evaluation) => new(id, group,
        new ProblemRecord(p.Id, p.Question, p.Answer, p.Split, new Dictionary<string, string>(p.Metadata)),
        config.Task.Name, config.Task.Options, Spec(evaluation), PolicyOfRole.ToDictionary(kv => kv.Key, kv => Replica(kv.Value)));

    /// <summary>
    /// The episode that forks <paramref name="original"/> at <see cref="ForkRequest.Turn"/> and the turns it replays: the
    /// campaign's training settings (the temperature and seed of the request where given), the original's problem, a
    /// new id (deterministic when a seed is given, so the same request gives the same fork).
    /// </summary>
    public (EpisodeRequest Request, RecordedTurn[] Prefix) Fork(ReMA.Grains.Storage.TrajectoryDocument original, ForkRequest request)
    {
        if (request.Temperature is float t && !(t >= 0 && t <= 10))
        {
            throw new ArgumentException($"fork: temperature must be between 0 and 10 (got {t}).");
        }
        if (request.Version is < 0)
        {
            throw new ArgumentException($"fork: version must be 0 or more (got {request.Version}).");
        }
        RecordedTurn[] turns = ReMA.Grains.Storage.RecordedTurns.From(original);
        if (request.Turn < 0 || request.Turn >= turns.Length)
        {
            throw new ArgumentException($"fork: turn {request.Turn} is outside episode '{original.EpisodeId}' (turns 0..{turns.Length - 1}).");
        }
        string id = request.Seed is ulong seed ? $"{original.EpisodeId}-fork{request.Turn}-seed{seed}" : Episodes.EpisodeIds.Fork(original.EpisodeId);
        var problem = new Problem(original.ProblemId, original.Question, original.GoldAnswer, original.Evaluation ? "eval" : config.Task.TrainSplit);
        EpisodeRequest episode = Episode(id, id, problem, evaluation: false);
        SamplingSpec sampling = episode.Settings.Sampling with
        {
            Temperature = request.Temperature ?? episode.Settings.Sampling.Temperature,
            Seed = request.Seed ?? episode.Settings.Sampling.Seed,
        };
        return (episode with { Settings = episode.Settings with { Sampling = sampling } }, turns[..request.Turn]);
    }

    public static ForkResult ForkResult(ForkRequest request, EpisodeRequest episode, EpisodeOutcome outcome) =>
        new(request.EpisodeId, request.Turn, episode.Settings.Sampling.Temperature, request.Version, Metrics.EpisodeReward(outcome), outcome);

    /// <summary>
    /// The prompts of RL step <paramref name="step"/>: drawn by (seed, step), so a repeated step repeats them. From the
    /// training split's pool, or, where the task draws fresh problems (<see cref="IFreshProblems"/>) and the campaign
    /// trains on its train split, new problems for every step.
    /// </summary>
    public IReadOnlyList<Problem> StepProblems(ITask task, long step)
    {
        if (Fresh(task) is IFreshProblems fresh)
        {
            return fresh.DrawTraining(config.PromptsPerStep, Stream(step + 1));
        }
        IReadOnlyList<Problem> train = task.Load(config.Task.TrainSplit);
        var random = new Random(unchecked((int)(config.Seed * 1_000_003 + step)));
        return Enumerable.Range(0, config.PromptsPerStep).Select(_ => train[random.Next(train.Count)]).ToList();
    }

    /// <summary>
    /// The problems the SFT stage demonstrates: the first sft.demonstrations of the pool, or fresh draws. SFT that
    /// continues from a checkpoint (model.path, e.g. an experiment's equal-compute SFT control) draws from a stream of
    /// its own, so it never replays the warm start's problems under the same seed.
    /// </summary>
    public IReadOnlyList<Problem> SftProblems(ITask task) => Fresh(task) is IFreshProblems fresh
        ? fresh.DrawTraining(config.Sft.Demonstrations, Stream(config.Model.Path is null ? 0 : ContinuedSftStream))
        : [.. task.Load(config.Task.TrainSplit).Take(config.Sft.Demonstrations)];

    /// <summary>Stream index of SFT from a checkpoint: far beyond any step number (steps use step + 1).</summary>
    private const long ContinuedSftStream = 1L << 40;

    private IFreshProblems? Fresh(ITask task) =>
        task is IFreshProblems { FreshTraining: true } fresh && config.Task.TrainSplit == "train" ? fresh : null;

    /// <summary>The fresh-problem stream of (campaign seed, <paramref name="index"/>): 0 for the warm start, step + 1 for RL steps.</summary>
    private long Stream(long index) => (long)(unchecked((ulong)config.Seed * 1_000_003UL + (ulong)index) & long.MaxValue);
}

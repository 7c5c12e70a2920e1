using Orleans.Concurrency;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;

namespace ReMA.Abstractions.Learning;

/// <summary>
/// How a learner trains its policy and where it publishes new versions. KeepEvery: keep the checkpoint of every
/// version that is a multiple of it (and always the latest); 0 keeps them all. Updates: how many RL steps will update
/// this policy (the length of its learning-rate schedule: a cosine decays over Updates x epochs optimizer steps);
/// 0 when unknown, and a cosine schedule then stays at its peak after warm-up. ConcurrentSft and ConcurrentSteps: how
/// many learners of the campaign fine-tune at the same time (its policies) and update at the same RL step (the policies
/// trained together); a small CPU model's learner shares the silo's cores among them (ComputeThreads.ForLearner), so
/// its thread count, and with it its float rounding, follows from the configuration alone.
/// </summary>
[GenerateSerializer, Immutable, Alias("rema.LearnerSetup")]
public sealed record LearnerSetup(
    AlgorithmSpec Algorithm,
    string CheckpointRoot,
    string[] Replicas,
    long Seed,
    float Temperature,
    int KeepEvery = 0,
    int Updates = 0,
    int ConcurrentSft = 1,
    int ConcurrentSteps = 1);

/// <summary>Update diagnostics of one learner step (means over its optimizer steps where that applies).</summary>
[GenerateSerializer, Immutable, Alias("rema.LearnerMetrics")]
public sealed record LearnerMetrics(
    int Rows,
    long LossTokens,
    int OptimizerSteps,
    double Loss,
    double ClipFractionTokens,
    double ClipFractionTurns,
    double ApproxKl,
    double ReferenceKl,
    double Entropy,
    double GradNorm,
    double RatioMean,
    double RatioMin,
    double RatioMax,
    double OldLogProbDrift,
    double LearningRate,
    double TokensPerSecond,
    double Seconds,
    int FilteredGroups,
    int SkippedRows = 0,
    long PassRowTokens = 0,
    long ComputedTokens = 0);

/// <summary>Outcome of a supervised warm start: losses before and after, and the version it published.</summary>
[GenerateSerializer, Immutable, Alias("rema.SftResult")]
public sealed record SftResult(long Version, string CheckpointPath, int Rows, int OptimizerSteps, double LossBefore, double LossAfter, double Seconds);

[GenerateSerializer, Immutable, Alias("rema.PublishedVersion")]
public sealed record PublishedVersion(long Version, string? CheckpointPath);

[GenerateSerializer, Immutable, Alias("rema.LearnerStepResult")]
public sealed record LearnerStepResult(long Step, long Version, string CheckpointPath, LearnerMetrics Metrics);

/// <summary>
/// The learner of one policy: turns a step's trajectories into an update, checkpoints it, and publishes the new
/// version to the policy replicas. Steps are applied exactly once: a step already applied returns its result again.
/// </summary>
[Alias("rema.ILearnerGrain")]
public interface ILearnerGrain : IGrainWithStringKey
{
    [Alias("Configure")]
    Task Configure(LearnerSetup setup);

    [Alias("Step")]
    [ResponseTimeout("00:30:00")]
    Task<LearnerStepResult> Step(long step, TrajectoryRecord[] rows);

    [Alias("Version")]
    Task<long> Version();

    /// <summary>
    /// The last RL step applied (-1 before any). Waits for a running step, so a campaign repeating a step learns whether
    /// its earlier call was applied after all (see CampaignGrain: the step's stored episodes are then what it trained on).
    /// </summary>
    [Alias("LastStep")]
    [ResponseTimeout("00:30:00")]
    Task<long> LastStep();

    /// <summary>
    /// The latest published version and its checkpoint folder (version 0 and null before any update). Interleaves with
    /// a running step: a replica activated by that step's publication asks while the step awaits it.
    /// </summary>
    [Alias("Latest")]
    [AlwaysInterleave]
    Task<PublishedVersion> Latest();

    /// <summary>Where version <paramref name="version"/>'s checkpoint can be read, or null when it was not kept (see keep_every).</summary>
    [Alias("Checkpoint")]
    [AlwaysInterleave]
    Task<string?> Checkpoint(long version);

    /// <summary>The versions whose checkpoints can still be read, oldest first.</summary>
    [Alias("Checkpoints")]
    [AlwaysInterleave]
    Task<long[]> Checkpoints();

    /// <summary>Supervised fine-tuning on demonstration rows (loss on their trained tokens), then checkpoint and publish.</summary>
    [Alias("Sft")]
    [ResponseTimeout("01:00:00")]
    Task<SftResult> Sft(TrajectoryRecord[] rows, SftSpec spec);
}

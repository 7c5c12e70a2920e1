using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Learning;
using Orleans.Concurrency;

namespace ReMA.Abstractions.Campaigns;

/// <summary>
/// What one RL step did. <c>StepAccuracy</c> is the share of the reasoner's checked steps that were correct (tasks
/// whose environment checks steps, such as arithmetic; null where no step was checked).
/// </summary>
[GenerateSerializer, Immutable, Alias("rema.StepRecord")]
public sealed record StepRecord(
    long Step,
    int Episodes,
    int FailedEpisodes,
    double RewardMean,
    double RewardStd,
    double Accuracy,
    Dictionary<string, int> FinishReasons,
    double TurnsPerEpisode,
    Dictionary<string, double> TokensPerTurn,
    double EmptyTurnRate,
    double RepetitionRate,
    Dictionary<string, LearnerMetrics> Learners,
    double RolloutSeconds,
    double UpdateSeconds,
    double RolloutTokensPerSecond,
    double WithinTurnRepetitionRate = 0,
    double NoGuidanceRate = 0,
    string[]? Warnings = null,
    double? StepAccuracy = null);

/// <summary>
/// Wall and CPU time of one finished stage (sft, rl), measured by the campaign's silo: its process's CPU time, all
/// cores. After a failover, from the new activation on (the stage's earlier part ran in a process that is gone).
/// </summary>
[GenerateSerializer, Immutable, Alias("rema.StageUsage")]
public sealed record StageUsage(string Stage, double Seconds, double CpuSeconds, int Processors, string Silo);

/// <summary>Greedy pass@1 on one evaluation set after a step.</summary>
[GenerateSerializer, Immutable, Alias("rema.EvalRecord")]
public sealed record EvalRecord(long AfterStep, string Set, int Problems, double Accuracy, double Seconds);

[GenerateSerializer, Immutable, Alias("rema.CampaignStatus")]
public sealed record CampaignStatus(
    string Name,
    string Status,
    string Stage,
    long NextStep,
    long Steps,
    StepRecord? LastStep,
    EvalRecord[] Evaluations,
    SftResult? Sft,
    string? Error,
    int Activations,
    string Silo = "",
    string? Warning = null,
    double SiloCpuSeconds = 0,
    int SiloProcessors = 0,
    StageUsage[]? Stages = null);

/// <summary>
/// A training campaign (keyed by name): stages sft -> rl -> done, driven by a timer in short units (one SFT stage,
/// one RL step, one evaluation), its state persisted after every unit so a reactivated campaign continues.
/// </summary>
[Alias("rema.ICampaignGrain")]
public interface ICampaignGrain : IGrainWithStringKey
{
    /// <summary>Validates and starts the campaign; starting it again with the same configuration is a no-op.</summary>
    [Alias("Start")]
    Task<CampaignStatus> Start(CampaignConfig config);

    [Alias("Status"), AlwaysInterleave]
    Task<CampaignStatus> Status();

    [Alias("History"), AlwaysInterleave]
    Task<StepRecord[]> History();

    /// <summary>The configuration the campaign was started with, or null when it was never started.</summary>
    [Alias("Config"), AlwaysInterleave]
    Task<CampaignConfig?> Config();

    [Alias("Pause"), AlwaysInterleave]
    Task<CampaignStatus> Pause();

    [Alias("Resume"), AlwaysInterleave]
    Task<CampaignStatus> Resume();

    [Alias("Cancel"), AlwaysInterleave]
    Task<CampaignStatus> Cancel();

    /// <summary>
    /// Runs one evaluation-style episode (the campaign's evaluation sampling, greedy by default) on problem
    /// <paramref name="index"/> of <paramref name="split"/> with the policies as they are now, and returns it whole.
    /// </summary>
    [Alias("SampleEpisode"), AlwaysInterleave]
    Task<EpisodeOutcome> SampleEpisode(string split, int index);

    /// <summary>
    /// Forks a stored episode of this campaign (see <see cref="ForkRequest"/>): reads it from the trajectory store, replays
    /// its turns before the fork point and generates the rest with the campaign's policies.
    /// </summary>
    [Alias("Fork"), AlwaysInterleave]
    [ResponseTimeout("00:10:00")]
    Task<ForkResult> Fork(ForkRequest request);

    /// <summary>The text of each token id under the tokenizer of the policy that plays <paramref name="role"/> (for per-token views).</summary>
    [Alias("DecodeTokens"), AlwaysInterleave]
    Task<string[]> DecodeTokens(string role, int[] ids);

    /// <summary>
    /// The training episodes of RL step <paramref name="step"/> (0-based, as in episode ids, <c>rema search --step</c> and the
    /// web API's <c>step=</c>), read from the trajectory store; empty when the store holds none for that step.
    /// </summary>
    [Alias("Episodes"), AlwaysInterleave]
    Task<EpisodeSummary[]> Episodes(long step);
}

/// <summary>One episode of an RL step as the CLI shows it: the problem, the outcome and every turn.</summary>
[GenerateSerializer, Immutable, Alias("rema.EpisodeSummary")]
public sealed record EpisodeSummary(
    string EpisodeId,
    long Step,
    string ProblemId,
    string Question,
    bool Correct,
    string FinishReason,
    double Reward,
    TranscriptRecord[] Transcript);

/// <summary>The names of every campaign started on the cluster (key 0), for <c>rema list</c>.</summary>
[Alias("rema.ICampaignIndexGrain")]
public interface ICampaignIndexGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task Add(string name);

    [Alias("List"), AlwaysInterleave]
    Task<string[]> List();
}

using ReMA.Abstractions.Policy;

namespace ReMA.Abstractions.Episodes;

[GenerateSerializer, Immutable, Alias("rema.ProblemRecord")]
public sealed record ProblemRecord(string Id, string Question, string Answer, string Split, Dictionary<string, string> Metadata);

/// <summary>Protocol, view, limits and sampling of an episode (see ReMA section 2).</summary>
[GenerateSerializer, Immutable, Alias("rema.EpisodeSpec")]
public sealed record EpisodeSpec(
    string Protocol,
    string View,
    int MaxTurns,
    int MaxTokensPerTurn,
    int MaxContextTokens,
    bool StopWhenTruncated,
    SamplingSpec Sampling);

/// <summary>Run one episode of <see cref="Problem"/>; each role is played by the policy grain named in PolicyByRole.</summary>
[GenerateSerializer, Immutable, Alias("rema.EpisodeRequest")]
public sealed record EpisodeRequest(
    string EpisodeId,
    string GroupId,
    ProblemRecord Problem,
    string TaskName,
    Dictionary<string, string> TaskOptions,
    EpisodeSpec Settings,
    Dictionary<string, string> PolicyByRole);

[GenerateSerializer, Immutable, Alias("rema.TranscriptRecord")]
public sealed record TranscriptRecord(int Round, string Role, string Text, int Tokens, string FinishReason, long PolicyVersion, double MeanLogProb, bool? StepCorrect = null);

/// <summary>
/// A training row as it travels to the learner: token ids exactly as sampled, masks, turns, old log-probs, rewards,
/// and (where the task's environment checked the role's turns as steps) each turn's step score, NaN for turns that
/// were not steps.
/// </summary>
[GenerateSerializer, Immutable, Alias("rema.TrajectoryRecord")]
public sealed record TrajectoryRecord(
    string EpisodeId,
    string Role,
    string GroupId,
    long PolicyVersion,
    int[] TokenIds,
    bool[] LossMask,
    int[] TurnIndex,
    float[] OldLogProbs,
    double[] TurnRewards,
    double[]? StepScores = null);

[GenerateSerializer, Immutable, Alias("rema.EpisodeOutcome")]
public sealed record EpisodeOutcome(
    string EpisodeId,
    string GroupId,
    string ProblemId,
    string FinishReason,
    bool Correct,
    string? Extracted,
    Dictionary<string, double> Rewards,
    TranscriptRecord[] Transcript,
    TrajectoryRecord[] Rows,
    double Seconds);

/// <summary>One episode: keyed by episode id; runs the protocol, asking policy grains to generate, and reports the outcome.</summary>
[Alias("rema.IEpisodeGrain")]
public interface IEpisodeGrain : IGrainWithStringKey
{
    [Alias("Run")]
    [ResponseTimeout("00:10:00")]
    Task<EpisodeOutcome> Run(EpisodeRequest request);

    /// <summary>Runs the episode with its first turns replayed from <paramref name="prefix"/> (in dialogue order) and the rest generated.</summary>
    [Alias("Fork")]
    [ResponseTimeout("00:10:00")]
    Task<EpisodeOutcome> Fork(EpisodeRequest request, RecordedTurn[] prefix);
}

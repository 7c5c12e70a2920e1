using ReMA.Learner.Training;

namespace ReMA.Grains.Episodes;

/// <summary>One message of an episode as it happened; <c>StepCorrect</c> is the environment's verdict on a reasoner step (null where none was checked).</summary>
public sealed record TranscriptTurn(int Round, string Role, string Text, int Tokens, string FinishReason, long PolicyVersion, double MeanLogProb, bool? StepCorrect = null);

/// <summary>What an episode produced: its ending, rewards, the readable transcript and the training rows.</summary>
public sealed record EpisodeResult(
    string EpisodeId,
    string GroupId,
    string ProblemId,
    string FinishReason,
    bool Correct,
    string? Extracted,
    IReadOnlyDictionary<string, double> Rewards,
    IReadOnlyList<TranscriptTurn> Transcript,
    IReadOnlyList<TrajectoryRow> Rows)
{
    public int Rounds => Transcript.Count == 0 ? 0 : Transcript.Max(t => t.Round) + 1;
}

using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Learning;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Campaigns;

/// <summary>Per-step rollout statistics (REMA.md 9 asks for repetition and empty-turn rates, turns per episode and lengths per role).</summary>
internal static class Metrics
{
    /// <summary>The reward an episode reports: the reasoner's (every protocol has one), else the first role's.</summary>
    public static double EpisodeReward(EpisodeOutcome o) => o.Rewards.TryGetValue(Roles.Reasoner, out double r) ? r : o.Rewards.Values.FirstOrDefault();

    /// <summary>Share of the checked steps (transcript turns with a verdict) that were correct; null when none was checked.</summary>
    public static double? StepAccuracy(IReadOnlyList<EpisodeOutcome> done)
    {
        var checkedSteps = done.SelectMany(o => o.Transcript).Where(t => t.StepCorrect is not null).ToList();
        return checkedSteps.Count == 0 ? null : checkedSteps.Count(t => t.StepCorrect == true) / (double)checkedSteps.Count;
    }

    public static StepRecord Of(long step, int requested, IReadOnlyList<EpisodeOutcome> done, Dictionary<string, LearnerMetrics> learners, double rolloutSeconds, double updateSeconds)
    {
        double[] rewards = done.Select(EpisodeReward).ToArray();
        double mean = rewards.Length == 0 ? 0 : rewards.Average();
        double std = rewards.Length < 2 ? 0 : Math.Sqrt(rewards.Sum(r => (r - mean) * (r - mean)) / (rewards.Length - 1));
        var turns = done.SelectMany(o => o.Transcript).ToList();
        // A repeated turn says exactly what the same role said in its previous turn of the episode.
        int repeated = done.Sum(o => o.Transcript.GroupBy(t => t.Role).Sum(g => g.Zip(g.Skip(1)).Count(p => p.First.Text == p.Second.Text)));
        long tokens = turns.Sum(t => (long)t.Tokens);
        return new StepRecord(
            step, requested, requested - done.Count, mean, std,
            done.Count == 0 ? 0 : done.Average(o => o.Correct ? 1.0 : 0.0),
            done.GroupBy(o => o.FinishReason).ToDictionary(g => g.Key, g => g.Count()),
            done.Count == 0 ? 0 : done.Average(o => o.Transcript.Length == 0 ? 0 : o.Transcript.Max(t => t.Round) + 1),
            turns.GroupBy(t => t.Role).ToDictionary(g => g.Key, g => g.Average(t => (double)t.Tokens)),
            // Empty: nothing said at all. A meta message that is only [FINISH] is a decision, not an empty turn.
            turns.Count == 0 ? 0 : turns.Count(t => string.IsNullOrWhiteSpace(t.Text)) / (double)turns.Count,
            turns.Count == 0 ? 0 : repeated / (double)turns.Count,
            learners, rolloutSeconds, updateSeconds, tokens / Math.Max(1e-9, rolloutSeconds),
            turns.Count == 0 ? 0 : turns.Count(t => CollapseMonitor.LoopsWithin(t.Text)) / (double)turns.Count,
            CollapseMonitor.NoGuidanceRate(done),
            StepAccuracy: StepAccuracy(done));
    }
}

using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Campaigns;

/// <summary>
/// Signs that rollouts are collapsing (the paper's echo trap: agents repeating themselves or each other, the meta agent
/// no longer guiding, episodes running into the turn limit, turns growing or shrinking), checked on every RL step
/// against the campaign's <see cref="MonitorSpec"/>.
/// </summary>
public static class CollapseMonitor
{
    /// <summary>A turn that loops within itself: at least 20 characters, fewer than half of its character 4-grams distinct.</summary>
    public static bool LoopsWithin(string text)
    {
        if (text.Length < 20)
        {
            return false;
        }
        var grams = new HashSet<string>(StringComparer.Ordinal);
        int total = text.Length - 3;
        for (int i = 0; i < total; i++)
        {
            grams.Add(text.Substring(i, 4));
        }
        return grams.Count < total / 2.0;
    }

    /// <summary>
    /// Share of meta turns that give no guidance: blank, or a verbatim copy of the meta's previous message or of the
    /// reasoner's message just before. A bare [FINISH] is a decision and counts as guidance.
    /// </summary>
    public static double NoGuidanceRate(IReadOnlyList<EpisodeOutcome> episodes)
    {
        int meta = 0, none = 0;
        foreach (EpisodeOutcome o in episodes)
        {
            string? previousMeta = null, previousReasoner = null;
            foreach (TranscriptRecord t in o.Transcript)
            {
                if (t.Role != Roles.Meta)
                {
                    previousReasoner = t.Text.Trim();
                    continue;
                }
                meta++;
                string text = t.Text.Trim();
                string content = text.Replace(Roles.Finish, "", StringComparison.Ordinal).Trim();
                bool decision = content.Length == 0 && text.Contains(Roles.Finish, StringComparison.Ordinal);
                if (!decision && (content.Length == 0 || text == previousMeta || text == previousReasoner))
                {
                    none++;
                }
                previousMeta = text;
            }
        }
        return meta == 0 ? 0 : none / (double)meta;
    }

    /// <summary>The warnings for <paramref name="current"/> given the steps before it (oldest first).</summary>
    public static string[] Check(StepRecord current, IReadOnlyList<StepRecord> earlier, MonitorSpec spec, int maxTurns)
    {
        var warnings = new List<string>();
        void Rate(string what, double value, double threshold)
        {
            if (threshold > 0 && value > threshold)
            {
                warnings.Add($"{what} {value:P0} is above {threshold:P0}");
            }
        }
        Rate("repetition rate", current.RepetitionRate, spec.RepetitionRate);
        Rate("within-turn repetition rate", current.WithinTurnRepetitionRate, spec.WithinTurnRepetitionRate);
        Rate("empty-turn rate", current.EmptyTurnRate, spec.EmptyTurnRate);
        Rate("meta no-guidance rate", current.NoGuidanceRate, spec.NoGuidanceRate);
        if (spec.TurnsFraction > 0 && current.TurnsPerEpisode > spec.TurnsFraction * maxTurns)
        {
            warnings.Add($"episodes run {current.TurnsPerEpisode:F1} rounds on average, near max_turns {maxTurns}");
        }
        var baseline = earlier.Take(spec.BaselineSteps).ToList();
        if (spec.LengthRatio > 0 && baseline.Count >= spec.BaselineSteps)
        {
            foreach ((string role, double length) in current.TokensPerTurn)
            {
                var before = baseline.Where(s => s.TokensPerTurn.ContainsKey(role)).Select(s => s.TokensPerTurn[role]).ToList();
                if (before.Count == 0 || before.Average() <= 0 || length <= 0)
                {
                    continue;
                }
                double ratio = length / before.Average();
                if (ratio > spec.LengthRatio || ratio < 1 / spec.LengthRatio)
                {
                    warnings.Add($"{role} turns average {length:F1} tokens, {ratio:F1}x their first-{spec.BaselineSteps}-step mean {before.Average():F1}");
                }
            }
        }
        return [.. warnings];
    }
}

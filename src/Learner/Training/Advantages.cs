namespace ReMA.Learner.Training;

public enum AdvantageEstimator
{
    /// <summary>Group-relative: (R - group mean) / (group std + eps), grouped by (group id, role).</summary>
    Grpo,
    /// <summary>Turn returns whitened over all loss tokens of the batch; no group baseline.</summary>
    ReinforcePlusPlus,
}

public sealed record AdvantageOptions
{
    public AdvantageEstimator Estimator { get; init; } = AdvantageEstimator.Grpo;
    /// <summary>Discount between turns for turn returns (1 = every turn gets the episode's return).</summary>
    public double TurnDiscount { get; init; } = 1.0;
    public double Epsilon { get; init; } = 1e-6;
    /// <summary>Drop groups whose returns are all 0 or all 1 (DAPO-style dynamic sampling); off by default.</summary>
    public bool FilterSolvedAndFailedGroups { get; init; }
    /// <summary>
    /// Weight of the per-turn step reward (0 = off, the paper's setting). When positive, every turn that carries a step
    /// score (<see cref="TrajectoryRow.StepScores"/>) gets weight x its step advantage on top of the outcome advantage:
    /// GRPO normalises the score against all scored turns of the same group and role, (s - mean) / (std + eps);
    /// REINFORCE++ adds weight x s to the turn's return before whitening. The step term belongs to its own turn only.
    /// </summary>
    public double StepRewardWeight { get; init; }
}

/// <summary>A row with the advantage of each of its turns (every loss token of a turn shares it).</summary>
public sealed record AdvantagedRow(TrajectoryRow Row, float[] TurnAdvantages);

public sealed record AdvantageResult(IReadOnlyList<AdvantagedRow> Rows, int FilteredGroups, int FilteredRows);

/// <summary>Advantage estimators over a step's rows (ReMA spec section 5).</summary>
public static class Advantages
{
    /// <summary>Return of each turn: G_t = sum over k >= t of discount^(k - t) r_k.</summary>
    public static double[] TurnReturns(IReadOnlyList<double> rewards, double discount)
    {
        var returns = new double[rewards.Count];
        double running = 0;
        for (int t = rewards.Count - 1; t >= 0; t--)
        {
            running = rewards[t] + discount * running;
            returns[t] = running;
        }
        return returns;
    }

    public static AdvantageResult Compute(IReadOnlyList<TrajectoryRow> rows, AdvantageOptions options)
    {
        var kept = new List<TrajectoryRow>();
        int filteredGroups = 0;
        foreach (var group in rows.GroupBy(r => (r.GroupId, r.Role)))
        {
            double[] returns = group.Select(r => TurnReturns(r.TurnRewards, options.TurnDiscount).FirstOrDefault()).ToArray();
            bool degenerate = (returns.All(v => v == 0.0) || returns.All(v => v == 1.0))
                && (options.StepRewardWeight <= 0 || Flat(group.SelectMany(ScoredSteps).ToArray()));
            if (options.FilterSolvedAndFailedGroups && degenerate)
            {
                filteredGroups++;
                continue;
            }
            kept.AddRange(group);
        }
        IReadOnlyList<AdvantagedRow> result = options.Estimator switch
        {
            AdvantageEstimator.Grpo => Grpo(kept, options),
            AdvantageEstimator.ReinforcePlusPlus => ReinforcePlusPlus(kept, options),
            _ => throw new ArgumentException($"advantage estimator {options.Estimator} is not known."),
        };
        return new AdvantageResult(result, filteredGroups, rows.Count - kept.Count);
    }

    /// <summary>
    /// GRPO: per (group, role), each episode's return R (its turn-0 return; one trajectory per episode, whether its
    /// turns sit in one row or, in the compact view, a row each) is compared with the group's: the baseline and the
    /// unbiased std are those of the episodes' returns, and turn t of an episode gets (G_t - mean) / (std + eps). With
    /// the default terminal reward and discount 1 every G_t is R, so this is the spec's (R - mean) / (std + eps) on
    /// every token of every turn, long failing episodes included. Where the group's returns are all equal (or there
    /// is only one episode), every outcome advantage is 0. With a step reward weight, scored turns add their step term.
    /// </summary>
    public static IReadOnlyList<AdvantagedRow> Grpo(IReadOnlyList<TrajectoryRow> rows, AdvantageOptions options)
    {
        var result = new AdvantagedRow[rows.Count];
        var index = rows.Select((r, i) => (r, i)).ToList();
        foreach (var group in index.GroupBy(p => (p.r.GroupId, p.r.Role)))
        {
            var episodes = group.GroupBy(p => p.r.EpisodeId).Select(e => e.ToList()).ToList();
            var turnReturns = episodes.Select(e => e.SelectMany(p => TurnReturns(p.r.TurnRewards, options.TurnDiscount)).ToArray()).ToList();
            double[] episodeReturns = turnReturns.Select(g => g.Length > 0 ? g[0] : 0).ToArray();
            bool flat = episodeReturns.Length < 2 || episodeReturns.All(v => v == episodeReturns[0]);
            double mean = episodeReturns.Average();
            double std = flat ? 0 : Math.Sqrt(episodeReturns.Sum(v => (v - mean) * (v - mean)) / (episodeReturns.Length - 1));
            for (int m = 0; m < episodes.Count; m++)
            {
                float[] advantages = turnReturns[m].Select(g => flat ? 0f : (float)((g - mean) / (std + options.Epsilon))).ToArray();
                int offset = 0;
                foreach (var (row, i) in episodes[m])
                {
                    result[i] = new AdvantagedRow(row, advantages[offset..(offset + row.Turns)]);
                    offset += row.Turns;
                }
            }
            if (options.StepRewardWeight > 0)
            {
                AddStepAdvantages(group.Select(p => result[p.i]).ToList(), options);
            }
        }
        return result;
    }

    /// <summary>The finite step scores of a row's turns.</summary>
    private static IEnumerable<double> ScoredSteps(TrajectoryRow row) => row.StepScores?.Where(double.IsFinite) ?? [];

    private static bool Flat(double[] values) => values.Length < 2 || values.All(v => v == values[0]);

    /// <summary>
    /// Step term of GRPO for one (group, role): the scored turns of all the group's episodes form the baseline, and a
    /// turn scored s gains weight x (s - mean) / (std + eps) (unbiased std); nothing when fewer than two turns are
    /// scored or all scores are equal. A step's correctness is decided by that turn alone (the environment carries the
    /// value forward, right or wrong), so the term is not passed back to earlier turns.
    /// </summary>
    private static void AddStepAdvantages(IReadOnlyList<AdvantagedRow> rows, AdvantageOptions options)
    {
        double[] scores = rows.SelectMany(r => ScoredSteps(r.Row)).ToArray();
        if (Flat(scores))
        {
            return;
        }
        double mean = scores.Average();
        double std = Math.Sqrt(scores.Sum(v => (v - mean) * (v - mean)) / (scores.Length - 1));
        foreach (AdvantagedRow r in rows)
        {
            double[]? steps = r.Row.StepScores;
            for (int t = 0; steps is not null && t < steps.Length; t++)
            {
                if (double.IsFinite(steps[t]))
                {
                    r.TurnAdvantages[t] += (float)(options.StepRewardWeight * (steps[t] - mean) / (std + options.Epsilon));
                }
            }
        }
    }

    /// <summary>
    /// REINFORCE++: each turn's return sits on its last token and is propagated to the turn's tokens; the values are then
    /// whitened over all loss tokens of the batch (token-weighted mean and std).
    /// </summary>
    public static IReadOnlyList<AdvantagedRow> ReinforcePlusPlus(IReadOnlyList<TrajectoryRow> rows, AdvantageOptions options)
    {
        var returns = rows.Select(r => TurnReturns(r.TurnRewards, options.TurnDiscount)).ToList();
        for (int i = 0; i < rows.Count && options.StepRewardWeight > 0; i++)
        {
            double[]? steps = rows[i].StepScores;
            for (int t = 0; steps is not null && t < steps.Length; t++)
            {
                if (double.IsFinite(steps[t]))
                {
                    returns[i][t] += options.StepRewardWeight * steps[t];
                }
            }
        }
        double sum = 0, sumSq = 0;
        long count = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            int[] tokensPerTurn = TokensPerTurn(rows[i]);
            for (int t = 0; t < tokensPerTurn.Length; t++)
            {
                sum += returns[i][t] * tokensPerTurn[t];
                sumSq += returns[i][t] * returns[i][t] * tokensPerTurn[t];
                count += tokensPerTurn[t];
            }
        }
        double mean = count > 0 ? sum / count : 0;
        double variance = count > 1 ? Math.Max(0, (sumSq - count * mean * mean) / (count - 1)) : 0;
        double std = Math.Sqrt(variance);
        return rows.Select((r, i) => new AdvantagedRow(r, returns[i].Select(g => (float)((g - mean) / (std + options.Epsilon))).ToArray())).ToList();
    }

    public static int[] TokensPerTurn(TrajectoryRow row)
    {
        var counts = new int[row.Turns];
        foreach (int t in row.TurnIndex)
        {
            if (t >= 0)
            {
                counts[t]++;
            }
        }
        return counts;
    }
}

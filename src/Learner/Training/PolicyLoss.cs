using static TorchSharp.torch;

namespace ReMA.Learner.Training;

public enum RatioLevel
{
    /// <summary>One ratio and one clip decision per token (PPO).</summary>
    Token,
    /// <summary>One ratio per turn: the arithmetic mean of the turn's token ratios (ReMA paper).</summary>
    TurnArithmetic,
    /// <summary>One ratio per turn: exp(min(mean log-ratio, clamp)) (ReMA public code).</summary>
    TurnGeometric,
}

public enum LossAggregation
{
    /// <summary>Mean over all loss tokens of the mini-batch.</summary>
    Token,
    /// <summary>Each turn's mean token loss, averaged over the mini-batch's turns.</summary>
    Turn,
    /// <summary>Each row's mean over its turns (of per-turn means), averaged over rows.</summary>
    Trajectory,
}

public sealed record PolicyLossOptions
{
    public RatioLevel Ratio { get; init; } = RatioLevel.TurnGeometric;
    public LossAggregation Aggregation { get; init; } = LossAggregation.Trajectory;
    public double ClipLow { get; init; } = 0.2;
    public double ClipHigh { get; init; } = 0.2;
    /// <summary>Dual clip for negative advantages (loss at most -c A); 0 disables it.</summary>
    public double DualClip { get; init; } = 3.0;
    /// <summary>Upper clamp of the mean log-ratio in the geometric turn ratio.</summary>
    public double LogRatioClamp { get; init; } = 3.0;
    /// <summary>Coefficient of the k3 KL penalty to the frozen reference model (0: no reference is built).</summary>
    public double KlCoefficient { get; init; }
    public double EntropyCoefficient { get; init; }
    /// <summary>Temperature the rollouts were sampled with; log-probs are computed under the same distribution.</summary>
    public float Temperature { get; init; } = 1f;

    public void Validate()
    {
        var errors = new List<string>();
        if (ClipLow is < 0 or >= 1)
        {
            errors.Add($"clip_low must be in [0, 1) (got {ClipLow})");
        }
        if (ClipHigh < 0)
        {
            errors.Add($"clip_high must be >= 0 (got {ClipHigh})");
        }
        if (DualClip != 0 && DualClip <= 1)
        {
            errors.Add($"dual_clip must be > 1, or 0 to disable it (got {DualClip})");
        }
        if (KlCoefficient < 0 || EntropyCoefficient < 0)
        {
            errors.Add("kl and entropy coefficients must be >= 0");
        }
        if (!(Temperature > 0))
        {
            errors.Add($"temperature must be positive (got {Temperature})");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException("policy loss: " + string.Join("; ", errors) + ".");
        }
    }
}

/// <summary>
/// The clipped policy-gradient losses of ReMA section 6, over the flattened loss tokens of a micro-batch.
/// Every token carries an aggregation weight computed from mini-batch-wide counts, so the sum over micro-batches
/// equals the loss of the whole mini-batch however it is split.
/// </summary>
public static class PolicyLoss
{
    /// <param name="logp">[M] current log-probs (with gradients)</param>
    /// <param name="old">[M] log-probs of the sampling policy</param>
    /// <param name="advantages">[M] advantage of each token (constant within a turn)</param>
    /// <param name="weights">[M] aggregation weights (see <see cref="AggregationWeights"/>)</param>
    /// <param name="turnId">[M] micro-batch-local turn number of each token</param>
    /// <param name="turnCount">number of turns in the micro-batch</param>
    public static Tensor Surrogate(Tensor logp, Tensor old, Tensor advantages, Tensor weights, Tensor turnId, int turnCount, PolicyLossOptions options)
    {
        using var scope = NewDisposeScope();
        Tensor perToken = options.Ratio == RatioLevel.Token
            ? Clipped(TokenRatios(logp, old), advantages, options)
            : Clipped(TurnRatios(logp, old, turnId, turnCount, options), TurnMean(advantages, turnId, turnCount), options).index_select(0, turnId);
        return (perToken * weights).sum().MoveToOuterDisposeScope();
    }

    /// <summary>Per-token ratios exp(logp - old), the log-ratio clamped to +-20 for safety.</summary>
    public static Tensor TokenRatios(Tensor logp, Tensor old) => (logp - old).clamp(-20, 20).exp();

    /// <summary>One ratio per turn [K].</summary>
    public static Tensor TurnRatios(Tensor logp, Tensor old, Tensor turnId, int turnCount, PolicyLossOptions options)
    {
        using var scope = NewDisposeScope();
        Tensor result = options.Ratio switch
        {
            RatioLevel.TurnArithmetic => TurnMean(TokenRatios(logp, old), turnId, turnCount),
            RatioLevel.TurnGeometric => TurnMean((logp - old).clamp(-20, 20), turnId, turnCount).clamp_max(options.LogRatioClamp).exp(),
            _ => throw new ArgumentException($"ratio level {options.Ratio} has no turn ratio."),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Mean of a per-token quantity within each turn: [M] -> [K].</summary>
    public static Tensor TurnMean(Tensor values, Tensor turnId, int turnCount)
    {
        using var scope = NewDisposeScope();
        Tensor sums = zeros(turnCount, dtype: values.dtype, device: values.device).index_add(0, turnId, values, 1);
        Tensor counts = zeros(turnCount, dtype: values.dtype, device: values.device).index_add(0, turnId, ones_like(values), 1);
        return (sums / counts).MoveToOuterDisposeScope();
    }

    /// <summary>max(-A r, -A clip(r, 1 - low, 1 + high)), then min(., -c A) where A &lt; 0 (dual clip).</summary>
    public static Tensor Clipped(Tensor ratio, Tensor advantage, PolicyLossOptions options)
    {
        using var scope = NewDisposeScope();
        Tensor unclipped = -advantage * ratio;
        Tensor clipped = -advantage * ratio.clamp(1 - options.ClipLow, 1 + options.ClipHigh);
        Tensor loss = maximum(unclipped, clipped);
        if (options.DualClip > 0)
        {
            loss = where(advantage < 0, minimum(loss, -options.DualClip * advantage), loss);
        }
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>k3 estimator of KL(policy || reference) per token, clamped to [-10, 10].</summary>
    public static Tensor K3(Tensor logp, Tensor referenceLogp)
    {
        using var scope = NewDisposeScope();
        Tensor d = referenceLogp - logp;
        return (d.exp() - d - 1).clamp(-10, 10).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Aggregation weight of each loss token given mini-batch-wide totals: token 1/N_tokens; turn 1/(n_t N_turns);
    /// trajectory 1/(n_t turns_in_trajectory N_trajectories), where a trajectory is one role's turns in one episode
    /// (one row in the full view, several in the compact view); <paramref name="trajectoryTurns"/> gives, per row of the
    /// micro-batch, the turns of its whole trajectory in the mini-batch (null: each row is a trajectory).
    /// </summary>
    public static float[] AggregationWeights(MicroBatch batch, LossAggregation aggregation, long totalTokens, long totalTurns, long totalTrajectories,
        IReadOnlyList<int>? trajectoryTurns = null)
    {
        var tokensPerTurn = new int[batch.TurnCount];
        foreach (long k in batch.TurnId)
        {
            tokensPerTurn[k]++;
        }
        var turnsPerRow = new int[batch.RowCount];
        foreach (var key in batch.RowOf.Zip(batch.TurnOf).Distinct())
        {
            turnsPerRow[key.First]++;
        }
        var weights = new float[batch.LossTokens];
        for (int m = 0; m < weights.Length; m++)
        {
            int nt = tokensPerTurn[batch.TurnId[m]];
            weights[m] = aggregation switch
            {
                LossAggregation.Token => (float)(1.0 / totalTokens),
                LossAggregation.Turn => (float)(1.0 / ((double)nt * totalTurns)),
                LossAggregation.Trajectory => (float)(1.0 / ((double)nt * (trajectoryTurns?[batch.RowOf[m]] ?? turnsPerRow[batch.RowOf[m]]) * totalTrajectories)),
                _ => throw new ArgumentException($"aggregation {aggregation} is not known."),
            };
        }
        return weights;
    }
}

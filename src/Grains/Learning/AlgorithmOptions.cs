using ReMA.Abstractions.Campaigns;
using ReMA.Learner.Training;

namespace ReMA.Grains.Learning;

/// <summary>Campaign algorithm settings as the learner library's options.</summary>
public static class AlgorithmOptions
{
    public static AdvantageOptions Advantage(AlgorithmSpec a) => new()
    {
        Estimator = a.Estimator == "reinforce++" ? AdvantageEstimator.ReinforcePlusPlus : AdvantageEstimator.Grpo,
        TurnDiscount = a.TurnDiscount,
        FilterSolvedAndFailedGroups = a.FilterSolvedAndFailedGroups,
        StepRewardWeight = a.StepRewardWeight,
    };

    public static PolicyLossOptions Loss(AlgorithmSpec a, float temperature) => new()
    {
        Ratio = a.Ratio switch { "token" => RatioLevel.Token, "turn-arithmetic" => RatioLevel.TurnArithmetic, _ => RatioLevel.TurnGeometric },
        Aggregation = a.Aggregation switch { "token" => LossAggregation.Token, "turn" => LossAggregation.Turn, _ => LossAggregation.Trajectory },
        ClipLow = a.ClipLow,
        ClipHigh = a.ClipHigh,
        DualClip = a.DualClip,
        LogRatioClamp = a.LogRatioClamp,
        KlCoefficient = a.KlCoefficient,
        EntropyCoefficient = a.EntropyCoefficient,
        Temperature = temperature,
    };

    public static LearningRateSchedule Schedule(AlgorithmSpec a, int totalSteps) => new()
    {
        Kind = a.LrSchedule switch { "linear-warmup" => ScheduleKind.LinearWarmup, "cosine" => ScheduleKind.Cosine, _ => ScheduleKind.Constant },
        Peak = a.LearningRate,
        WarmupSteps = a.WarmupSteps,
        TotalSteps = Math.Max(totalSteps, a.WarmupSteps + 1),
    };

    /// <summary>
    /// The SFT stage's schedule over <paramref name="totalSteps"/> optimizer steps: cosine (5% warm-up, decay to a
    /// tenth), or constant after sft.warmup_steps of linear warm-up.
    /// </summary>
    public static LearningRateSchedule SftSchedule(SftSpec spec, int totalSteps) => spec.Schedule switch
    {
        "cosine" => new LearningRateSchedule { Kind = ScheduleKind.Cosine, Peak = spec.LearningRate, WarmupSteps = Math.Max(1, totalSteps / 20), TotalSteps = totalSteps, MinRatio = 0.1 },
        _ when spec.WarmupSteps > 0 => new LearningRateSchedule { Kind = ScheduleKind.LinearWarmup, Peak = spec.LearningRate, WarmupSteps = spec.WarmupSteps, TotalSteps = totalSteps },
        _ => new LearningRateSchedule { Peak = spec.LearningRate },
    };

    public static UpdateOptions Update(AlgorithmSpec a) => new()
    {
        Epochs = a.Epochs,
        MiniBatchRows = a.MiniBatchRows,
        MiniBatches = a.MiniBatches,
        MicroBatchTokens = a.MicroBatchTokens,
        MaxGradNorm = a.MaxGradNorm,
        RecomputeOldLogProbs = a.RecomputeOldLogProbs,
    };

    /// <summary>The SFT stage's optimizer: the algorithm's AdamW with sft.weight_decay and sft.adam_beta2 where given.</summary>
    public static AdamWOptions SftOptimizer(SftSpec spec, AlgorithmSpec a) => Optimizer(a) with
    {
        WeightDecay = spec.WeightDecay ?? a.WeightDecay,
        Beta2 = spec.AdamBeta2 ?? a.AdamBeta2,
    };

    public static AdamWOptions Optimizer(AlgorithmSpec a) => new() { WeightDecay = a.WeightDecay, Beta1 = a.AdamBeta1, Beta2 = a.AdamBeta2, Epsilon = a.AdamEpsilon };
}

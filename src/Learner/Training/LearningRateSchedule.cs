namespace ReMA.Learner.Training;

public enum ScheduleKind
{
    Constant,
    /// <summary>Linear rise over the warm-up steps, then constant.</summary>
    LinearWarmup,
    /// <summary>Linear warm-up, then cosine decay to MinRatio x peak at TotalSteps.</summary>
    Cosine,
}

/// <summary>Learning rate as a function of the optimizer step about to be taken (0-based).</summary>
public sealed record LearningRateSchedule
{
    public ScheduleKind Kind { get; init; } = ScheduleKind.Constant;
    public double Peak { get; init; } = 1e-6;
    public int WarmupSteps { get; init; }
    public int TotalSteps { get; init; }
    public double MinRatio { get; init; }

    public double At(long step)
    {
        if (Kind == ScheduleKind.Constant)
        {
            return Peak;
        }
        if (step < WarmupSteps)
        {
            return Peak * (step + 1) / WarmupSteps;
        }
        if (Kind == ScheduleKind.LinearWarmup)
        {
            return Peak;
        }
        long decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        return Peak * (MinRatio + (1 - MinRatio) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    public void Validate()
    {
        var errors = new List<string>();
        if (!(Peak > 0))
        {
            errors.Add($"learning rate must be positive (got {Peak})");
        }
        if (WarmupSteps < 0)
        {
            errors.Add($"warmup_steps must be >= 0 (got {WarmupSteps})");
        }
        if (Kind == ScheduleKind.Cosine && TotalSteps <= WarmupSteps)
        {
            errors.Add($"cosine schedule needs total_steps ({TotalSteps}) > warmup_steps ({WarmupSteps})");
        }
        if (MinRatio is < 0 or > 1)
        {
            errors.Add($"min_ratio must be in [0, 1] (got {MinRatio})");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException("learning-rate schedule: " + string.Join("; ", errors) + ".");
        }
    }
}

using ReMA.Abstractions.Campaigns;
using ReMA.Grains.Learning;

namespace ReMA.Grains.Tests;

public class SftScheduleTests
{
    [Fact]
    public void ConstantSchedule_WarmsUpLinearly_ThenHoldsThePeak()
    {
        var schedule = AlgorithmOptions.SftSchedule(new SftSpec { LearningRate = 1e-3, Schedule = "constant", WarmupSteps = 35 }, 700);
        Assert.Equal(1e-3 / 35, schedule.At(0), 12);
        Assert.Equal(1e-3 * 20 / 35, schedule.At(19), 12);
        Assert.Equal(1e-3, schedule.At(34), 12);
        Assert.Equal(1e-3, schedule.At(699), 12);   // no decay: RL follows a model that was not annealed
    }

    [Fact]
    public void ConstantSchedule_WithoutWarmup_IsThePeakFromTheFirstStep()
    {
        var schedule = AlgorithmOptions.SftSchedule(new SftSpec { LearningRate = 2e-3, Schedule = "constant" }, 100);
        Assert.Equal(2e-3, schedule.At(0), 12);
        Assert.Equal(2e-3, schedule.At(99), 12);
    }

    [Fact]
    public void CosineSchedule_DecaysToATenthOfThePeak()
    {
        var schedule = AlgorithmOptions.SftSchedule(new SftSpec { LearningRate = 1e-3, Schedule = "cosine" }, 700);
        Assert.Equal(1e-3, schedule.At(34), 12);            // 5 % warm-up
        Assert.Equal(1e-4, schedule.At(700), 12);
        Assert.True(schedule.At(400) < 1e-3 && schedule.At(400) > 1e-4);
    }
}

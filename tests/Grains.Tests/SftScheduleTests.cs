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

/// <summary>Where a campaign's training problems come from: the task's pool, or fresh draws per step (problems: fresh).</summary>
public class CampaignProblemTests
{
    private static ReMA.Tasks.Core.ITask Task(string problems) => ReMA.Tasks.Arithmetic.ArithmeticTask.FromOptions(new ReMA.Tasks.Core.TaskOptions("arithmetic",
        new Dictionary<string, string> { ["problems"] = problems, ["train_size"] = "300", ["parentheses_probability"] = "0" }));

    private static ReMA.Grains.Campaigns.CampaignPlan Plan(long seed, string split = "train") =>
        new(new CampaignConfig { Seed = seed, PromptsPerStep = 16, Task = new TaskSpec { TrainSplit = split }, Sft = new SftSpec { Demonstrations = 40 } });

    [Fact]
    public void FreshProblems_AreNewForEveryStepAndSeed_AndRepeatWithTheStep()
    {
        var task = Task("fresh");
        var step3 = Plan(1).StepProblems(task, 3).Select(p => p.Question).ToList();
        Assert.Equal(16, step3.Count);
        Assert.Equal(step3, Plan(1).StepProblems(Task("fresh"), 3).Select(p => p.Question));   // a repeated step repeats its problems
        Assert.NotEqual(step3, Plan(1).StepProblems(task, 4).Select(p => p.Question));
        Assert.NotEqual(step3, Plan(2).StepProblems(task, 3).Select(p => p.Question));
        var sft = Plan(1).SftProblems(task).Select(p => p.Question).ToList();
        Assert.Equal(40, sft.Count);
        Assert.NotEqual(sft.Take(16), step3);
        // SFT from a checkpoint (an experiment's SFT control) does not replay the warm start's problems.
        var continued = new ReMA.Grains.Campaigns.CampaignPlan(new CampaignConfig
        {
            Seed = 1, Model = new ModelSpec { Preset = null, Path = "/ckpt" }, Sft = new SftSpec { Demonstrations = 40 },
        }).SftProblems(task).Select(p => p.Question).ToList();
        Assert.NotEqual(sft, continued);
    }

    [Fact]
    public void PoolProblems_ComeFromTheTrainingSplit()
    {
        var task = Task("pool");
        var pool = task.Load("train").Select(p => p.Id).ToHashSet();
        Assert.All(Plan(1).StepProblems(task, 3), p => Assert.Contains(p.Id, pool));
        Assert.Equal(task.Load("train").Take(40).Select(p => p.Id), Plan(1).SftProblems(task).Select(p => p.Id));
        // A campaign that trains on another split uses that split's problems even when the task could draw fresh ones.
        var test = Task("fresh").Load("test").Select(p => p.Id).ToHashSet();
        Assert.All(Plan(1, "test").StepProblems(Task("fresh"), 0), p => Assert.Contains(p.Id, test));
    }
}

using Orleans.Core.Internal;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Policy;

namespace ReMA.Grains.Tests;

public class CampaignGrainTests(PolicyClusterFixture fixture) : IClassFixture<PolicyClusterFixture>
{
    private static CampaignConfig Small(string name, int steps) => new()
    {
        Name = name,
        Model = new ModelSpec { Preset = "nano" },
        Task = new TaskSpec { Options = new() { ["train_size"] = "40", ["eval_size"] = "8" } },
        GroupSize = 2,
        PromptsPerStep = 2,
        Steps = steps,
        Limits = new LimitsSpec { MaxTurns = 3, MaxTokensPerTurn = 12, MaxContextTokens = 1000 },
        Algorithm = new AlgorithmSpec { LearningRate = 1e-3 },
        Sft = new SftSpec { Demonstrations = 8, Epochs = 1, BatchRows = 16 },
        Eval = new EvalSpec { Sets = ["test"], Interval = 1, MaxProblems = 4 },
        CheckpointInterval = 2,
    };

    private async Task<CampaignStatus> WaitAsync(ICampaignGrain campaign, Func<CampaignStatus, bool> until, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            CampaignStatus s = await campaign.Status();
            if (until(s) || s.Status is "failed" || DateTime.UtcNow > deadline)
            {
                return s;
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task OverlappedRollouts_SampleTheNextStepDuringTheUpdate_AndApplyEveryStepOnce()
    {
        string name = "camp-ov-" + Guid.NewGuid().ToString("N")[..8];
        ICampaignGrain campaign = fixture.Cluster.Client.GetGrain<ICampaignGrain>(name);
        await campaign.Start(Small(name, steps: 4) with
        {
            Sft = new SftSpec { Enabled = false },
            Eval = new EvalSpec { Sets = ["test"], Interval = 100, MaxProblems = 2 },
            // Twenty passes over the step's rows: an update long enough that the next step's first turns are sampled
            // before it publishes (one pass over four tiny episodes could finish first, and then nothing is stale).
            Algorithm = new AlgorithmSpec { LearningRate = 1e-4, OverlapRollout = true, Epochs = 20 },
        });
        CampaignStatus done = await WaitAsync(campaign, s => s.Status == "completed");
        Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}");
        Assert.Equal([0L, 1L, 2L, 3L], (await campaign.History()).Select(h => h.Step));
        Assert.All(await campaign.History(), h => Assert.Equal(4, h.Episodes));
        Assert.Equal(4, await fixture.Cluster.Client.GetGrain<ReMA.Abstractions.Learning.ILearnerGrain>($"{name}.shared").Version());
        // Without overlap step s samples only with version s; overlapped, its rollout starts while update s-1 runs, so
        // some of its turns (the first ones) are sampled with version s-1. A row spans all of a role's turns and takes
        // the newest version among them, so it is the turns that show it.
        var stale = new List<long>();
        await foreach (var e in new ReMA.Grains.Storage.LocalTrajectoryStore("runs").ReadAsync(name))
        {
            if (!e.Evaluation && e.Step >= 1 && e.Turns.Any(t => t.PolicyVersion == e.Step - 1))
            {
                stale.Add(e.Step);
            }
        }
        Assert.NotEmpty(stale);
    }

    [Fact]
    public async Task SmallCampaign_RunsSftThenRlStepsWithEvaluations()
    {
        string name = "camp-a-" + Guid.NewGuid().ToString("N")[..8];   // checkpoints go under runs/<name>: fresh per run
        ICampaignGrain campaign = fixture.Cluster.Client.GetGrain<ICampaignGrain>(name);
        await campaign.Start(Small(name, steps: 2));
        CampaignStatus done = await WaitAsync(campaign, s => s.Status == "completed");
        Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}");
        Assert.NotNull(done.Sft);
        Assert.True(done.Sft!.LossAfter < done.Sft.LossBefore);
        // The silo times each finished stage, however short (a follower polling every half second may miss one).
        Assert.Equal(["sft", "rl"], done.Stages!.Select(st => st.Stage));
        Assert.All(done.Stages!, st => Assert.True(st.Seconds > 0 && st.CpuSeconds > 0 && st.Processors == Environment.ProcessorCount, $"{st}"));
        Assert.True(done.Stages![0].Seconds >= done.Sft.Seconds * 0.9, $"sft stage {done.Stages[0].Seconds:F2} s, its learner call {done.Sft.Seconds:F2} s");
        StepRecord[] history = await campaign.History();
        Assert.Equal([0L, 1L], history.Select(h => h.Step));
        Assert.All(history, h => Assert.Equal(4, h.Episodes));
        Assert.All(history, h => Assert.Equal(0, h.FailedEpisodes));
        Assert.All(history, h => Assert.True(h.Learners[$"{name}.shared"].Rows > 0));
        // The arithmetic environment checks the reasoner's steps (none in a step whose episodes all ended before the
        // reasoner spoke: the untrained model often runs its first turn into the token limit).
        Assert.All(history, h => Assert.True(h.StepAccuracy is null or (>= 0 and <= 1), $"step accuracy {h.StepAccuracy}"));
        Assert.Equal([0L, 1L, 2L], done.Evaluations.Select(e => e.AfterStep));
        Assert.All(done.Evaluations, e => Assert.Equal(4, e.Problems));
        // SFT published version 1, each RL step one more.
        Assert.Equal(3, (await fixture.Cluster.Client.GetGrain<IPolicyGrain>($"{name}.shared/0").GetInfo()).Version);
        // Checkpoints kept: the SFT warm start's (version 1, the RL stage's starting point), every
        // checkpoint_interval-th version and the latest (interval 2 here: versions 2 and 3).
        string[] kept = Directory.GetDirectories(Path.Combine("runs", name, "checkpoints", $"{name}.shared")).Select(Path.GetFileName).Order().ToArray()!;
        Assert.Equal(["step-00000001", "step-00000002", "step-00000003"], kept);
        // Starting it again is a no-op.
        Assert.Equal("completed", (await campaign.Start(Small(name, steps: 2))).Status);
    }

    [Fact]
    public async Task SeparateParameters_AlternatingSchedule_TrainsOneRoleAtATime_AndListsAStepsEpisodes()
    {
        string name = "camp-alt-" + Guid.NewGuid().ToString("N")[..8];
        ICampaignGrain campaign = fixture.Cluster.Client.GetGrain<ICampaignGrain>(name);
        await campaign.Start(Small(name, steps: 3) with
        {
            Roles = new RolesSpec { Parameters = "separate", Schedule = "alternating", SwitchEvery = 2, FirstRole = "reasoner" },
            Sft = new SftSpec { Enabled = false },
        });
        CampaignStatus done = await WaitAsync(campaign, s => s.Status == "completed");
        Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}");
        StepRecord[] history = await campaign.History();
        Assert.Equal([$"{name}.reasoner"], history[0].Learners.Keys);
        Assert.Equal([$"{name}.reasoner"], history[1].Learners.Keys);
        Assert.Equal([$"{name}.meta"], history[2].Learners.Keys);
        Assert.Equal(2, (await fixture.Cluster.Client.GetGrain<IPolicyGrain>($"{name}.reasoner/0").GetInfo()).Version);
        Assert.Equal(1, (await fixture.Cluster.Client.GetGrain<IPolicyGrain>($"{name}.meta/0").GetInfo()).Version);
        EpisodeSummary[] episodes = await campaign.Episodes(2);
        Assert.Equal(4, episodes.Length);
        Assert.All(episodes, e => Assert.StartsWith("Compute ", e.Question));
        Assert.All(episodes, e => Assert.Equal("meta", e.Transcript[0].Role));
        Assert.Empty(await campaign.Episodes(99));
    }

    [Fact]
    public async Task Campaign_PausesResumesAndCancels()
    {
        ICampaignGrain campaign = fixture.Cluster.Client.GetGrain<ICampaignGrain>("camp-b");
        await campaign.Start(Small("camp-b", steps: 40) with { Sft = new SftSpec { Enabled = false } });
        await WaitAsync(campaign, s => s.NextStep >= 1);
        CampaignStatus paused = await campaign.Pause();
        Assert.Equal("paused", paused.Status);
        long at = (await WaitAsync(campaign, _ => false, seconds: 2)).NextStep;
        await Task.Delay(1000);
        Assert.Equal(at, (await campaign.Status()).NextStep);     // nothing advances while paused
        Assert.Equal("running", (await campaign.Resume()).Status);
        await WaitAsync(campaign, s => s.NextStep > at);
        Assert.Equal("cancelled", (await campaign.Cancel()).Status);
        await Task.Delay(500);
        Assert.Equal("cancelled", (await campaign.Status()).Status);
    }

    [Fact]
    public async Task Campaign_ContinuesFromItsPersistedStateAfterItsActivationIsLost()
    {
        string name = "camp-d-" + Guid.NewGuid().ToString("N")[..8];
        ICampaignGrain campaign = fixture.Cluster.Client.GetGrain<ICampaignGrain>(name);
        await campaign.Start(Small(name, steps: 3) with { Sft = new SftSpec { Enabled = false } });
        await WaitAsync(campaign, s => s.NextStep >= 1);
        await campaign.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(300);
        // The next call reactivates it; the timer restarts from the stored state and the campaign completes.
        CampaignStatus done = await WaitAsync(campaign, s => s.Status == "completed");
        Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}");
        Assert.True(done.Activations >= 2, $"the campaign was activated {done.Activations} time(s); the test needs it to lose its activation");
        Assert.Equal([0L, 1L, 2L], (await campaign.History()).Select(h => h.Step));     // every step exactly once
        Assert.Equal(3, (await fixture.Cluster.Client.GetGrain<IPolicyGrain>($"{name}.shared/0").GetInfo()).Version);
    }

    [Fact]
    public async Task InvalidConfiguration_IsRejectedWithEveryBadField()
    {
        ICampaignGrain campaign = fixture.Cluster.Client.GetGrain<ICampaignGrain>("camp-c");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => campaign.Start(Small("camp-c", steps: 1) with { GroupSize = 1, Protocol = "cot" }));
        Assert.Contains("group_size", error.Message);
        Assert.Contains("protocol", error.Message);
        Assert.Equal("created", (await campaign.Status()).Status);
    }

    [Fact]
    public async Task UnknownEvaluationSet_IsRefusedAtStart_InTheSameReportAsTheOtherBadFields()
    {
        string name = "camp-sets-" + Guid.NewGuid().ToString("N")[..8];
        ICampaignGrain campaign = fixture.Cluster.Client.GetGrain<ICampaignGrain>(name);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => campaign.Start(Small(name, steps: 1) with
        {
            GroupSize = 1,
            Task = new TaskSpec { Options = new() { ["train_size"] = "40", ["eval_size"] = "8" }, TrainSplit = "training" },
            Eval = new EvalSpec { Sets = ["test", "ood-operandz"], Interval = 1, MaxProblems = 4 },
        }));
        Assert.Contains($"campaign '{name}': 3 invalid field(s):", error.Message);
        Assert.Contains("group_size: must be at least 2", error.Message);
        Assert.Contains("eval.sets[1]: 'ood-operandz' is not a split of task 'arithmetic' (its splits: train, test, validation, ood-operands, ood-large, ood-nested)", error.Message);
        Assert.Contains("task.train_split: 'training' is not a split of task 'arithmetic'", error.Message);
        Assert.Equal("created", (await campaign.Status()).Status);
        Assert.Null(await campaign.Config());

        var unknownTask = await Assert.ThrowsAsync<ArgumentException>(() => campaign.Start(Small(name, steps: 1) with { Task = new TaskSpec { Name = "chess" } }));
        Assert.Contains("task.name: 'chess' is not a known task; tasks: arithmetic, arithmetic-judge, judge, math", unknownTask.Message);
    }
}

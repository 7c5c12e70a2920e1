using ReMA.Abstractions.Campaigns;

namespace ReMA.Grains.Tests;

/// <summary>Small arithmetic campaigns for cluster tests: untrained nano model, no SFT, a tiny evaluation.</summary>
public static class TestCampaigns
{
    public static CampaignConfig Small(string name, int steps, int group = 2, int prompts = 2, int maxTurns = 3, int maxTokens = 12) => new()
    {
        Name = name,
        Task = new TaskSpec { Options = new() { ["train_size"] = "40", ["eval_size"] = "8", ["prompts"] = "none" } },
        GroupSize = group,
        PromptsPerStep = prompts,
        Steps = steps,
        Limits = new LimitsSpec { MaxTurns = maxTurns, MaxTokensPerTurn = maxTokens, MaxContextTokens = 1000 },
        Sft = new SftSpec { Enabled = false },
        Eval = new EvalSpec { Sets = ["test"], Interval = 100, MaxProblems = 2 },
    };
}

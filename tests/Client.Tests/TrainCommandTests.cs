using ReMA.Abstractions.Campaigns;

namespace ReMA.Client.Tests;

public class TrainCommandTests
{
    [Fact]
    public async Task Train_RunsACampaignOnAnEmbeddedSiloAndWritesItsHistory()
    {
        var config = new CampaignConfig
        {
            Name = "cli-" + Guid.NewGuid().ToString("N")[..8],
            Task = new TaskSpec { Options = new() { ["train_size"] = "20", ["eval_size"] = "4" } },
            GroupSize = 2,
            PromptsPerStep = 2,
            Steps = 1,
            Limits = new LimitsSpec { MaxTurns = 2, MaxTokensPerTurn = 8, MaxContextTokens = 1000 },
            Sft = new SftSpec { Demonstrations = 4, Epochs = 1, BatchRows = 16 },
            Eval = new EvalSpec { Sets = ["test"], Interval = 1, MaxProblems = 2 },
        };
        var output = new StringWriter();
        int code = await TrainCommand.RunAsync(config, 22111, 32111, output, CancellationToken.None);
        string log = output.ToString();
        Assert.True(code == 0, log);
        Assert.Contains("sft: ", log);
        Assert.Contains("step 1/1: reward", log);
        Assert.Contains("eval after step 1: test pass@1", log);
        Assert.True(File.Exists(Path.Combine("runs", config.Name, "history.json")));
        Assert.Equal(config.Name, CampaignFile.Load(Path.Combine("runs", config.Name, "campaign.json")).Name);
    }
}

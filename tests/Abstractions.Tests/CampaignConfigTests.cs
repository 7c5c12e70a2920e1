using ReMA.Abstractions.Campaigns;

namespace ReMA.Abstractions.Tests;

public class CampaignConfigTests
{
    [Fact]
    public void Defaults_AreValid_AndSurviveAFileRoundTrip()
    {
        var config = new CampaignConfig { Task = new TaskSpec { Options = new() { ["max_operands"] = "3" } } };
        Assert.Empty(CampaignConfigValidation.Errors(config));
        string json = CampaignFile.Write(config);
        Assert.Contains("\"group_size\": 8", json);
        Assert.Contains("\"max_operands\": \"3\"", json);
        CampaignConfig back = CampaignFile.Parse(json, "c.json");
        Assert.Equal(CampaignFile.Write(config), CampaignFile.Write(back));
    }

    [Fact]
    public void PartialFile_KeepsDefaultsForTheRest()
    {
        CampaignConfig c = CampaignFile.Parse("""
            // comments are allowed
            { "name": "vrp-baseline", "protocol": "vrp", "limits": { "max_turns": 1 }, "algorithm": { "ratio": "token" }, }
            """, "c.json");
        Assert.Equal("vrp", c.Protocol);
        Assert.Equal(1, c.Limits.MaxTurns);
        Assert.Equal(24, c.Limits.MaxTokensPerTurn);
        Assert.Equal("grpo", c.Algorithm.Estimator);
    }

    [Fact]
    public void EveryBadFieldIsReportedAtOnce()
    {
        var error = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""
            { "name": "bad name!", "group_size": 1, "protocol": "rema", "limits": { "max_tokens_per_turn": 600, "max_context_tokens": 512 },
              "algorithm": { "ratio": "sequence", "clip_low": 1.5 }, "model": { "preset": "nano", "path": "/m" }, "sft": { "epochs": 0 } }
            """, "demo.json"));
        foreach (string expected in new[]
        {
            "demo.json: 8 invalid field(s)", "name: 'bad name!'", "group_size: must be at least 2", "protocol: 'rema' is not one of",
            "limits.max_context_tokens: must exceed max_tokens_per_turn (512 <= 600)", "algorithm.ratio: 'sequence' is not one of",
            "algorithm.clip_low: must be in [0, 1) (got 1.5)", "model: give exactly one of model.preset and model.path", "sft.epochs: must be positive",
        })
        {
            Assert.Contains(expected, error.Message);
        }
    }

    [Fact]
    public void UnknownFieldsAndWrongTypesNameTheField()
    {
        var unknown = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "limits": { "max_turn": 3 } }""", "c.json"));
        Assert.Contains("c.json", unknown.Message);
        Assert.Contains("max_turn", unknown.Message);
        var type = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "group_size": "eight" }""", "c.json"));
        Assert.Contains("c.json at group_size", type.Message);
        Assert.Throws<FileNotFoundException>(() => CampaignFile.Load("/no/such/campaign.json"));
    }
}

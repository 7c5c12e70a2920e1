using ReMA.Abstractions.Campaigns;

namespace ReMA.Client.Tests;

[Collection("console")]
public class DemoCommandTests
{
    [Fact]
    public async Task Demo_TrainsOnAnEmbeddedSiloAndWritesAReportWithChartTranscriptAndConfiguration()
    {
        CampaignConfig preset = CampaignPresets.Get(CampaignPresets.ArithmeticDemo);
        var config = preset with
        {
            Name = "demo-" + Guid.NewGuid().ToString("N")[..8],
            Task = preset.Task with { Options = new(preset.Task.Options) { ["train_size"] = "40", ["eval_size"] = "6" } },
            GroupSize = 2,
            PromptsPerStep = 2,
            Steps = 2,
            Sft = preset.Sft with { Demonstrations = 8, Steps = 3, BatchRows = 16 },
            Eval = preset.Eval with { Interval = 2, MaxProblems = 3 },
        };
        var output = new StringWriter();
        var console = new StringWriter();
        TextWriter stdout = Console.Out, stderr = Console.Error;
        Console.SetOut(console);
        Console.SetError(console);
        int code;
        try
        {
            code = await DemoCommand.RunAsync(config, 21111, 31000, output, CancellationToken.None);
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
        string log = output.ToString();
        Assert.True(code == 0, log + console);
        // The silo's own log lines go to runs/<name>/logs/, not between the progress lines on the console.
        Assert.Equal("", console.ToString());
        Assert.DoesNotContain("info:", log);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine("runs", config.Name, "logs"), "silo-*.log"));
        string folder = Path.Combine("runs", config.Name);
        string report = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.Contains("| test (in distribution) | 3 |", report);
        Assert.Contains("| ood-operands (out of distribution) | 3 |", report);
        Assert.Contains("RL raises in-distribution accuracy by at least 10 points", report);
        Assert.Contains("CPU utilisation during the RL stage", report);
        Assert.Contains("[round 0] meta: ", report);
        // The role swap: the kept SFT checkpoint and the final one in the four pairings, on the same 3 problems.
        Assert.Contains("## Where the change comes from (role swap)", report);
        Assert.Contains("same 3 test problems", report);
        foreach (string pairing in new[] { "| SFT | SFT |", "| after RL | SFT |", "| SFT | after RL |", "| after RL | after RL |" })
        {
            Assert.Contains(pairing, report);
        }
        // Three SFT steps teach nothing, so every episode is wrong before and after, each with a first cause.
        Assert.Contains("| meta agent | reasoner | pass@1 | change vs SFT | meta step accuracy | reasoner step accuracy |", report);
        Assert.Contains("| first cause | after SFT | after RL |", report);
        Assert.Contains("| all wrong | 3 | 3 |", report);
        Assert.Contains("\"prompts_per_step\": 2", report);
        Assert.Contains("![reward and accuracy per step](training.png)", report);
        byte[] png = File.ReadAllBytes(Path.Combine(folder, "training.png"));
        Assert.True(png.Length > 1000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G');
    }

    [Fact]
    public void Presets_AreValidAndMathQwenNamesItsCheckpoint()
    {
        foreach (string name in CampaignPresets.Names)
        {
            CampaignConfig c = CampaignPresets.Get(name);
            Assert.Empty(CampaignConfigValidation.Errors(c));
            Assert.Equal(name, c.Name);
        }
        Assert.Equal("vrp", CampaignPresets.Get(CampaignPresets.ArithmeticVrp).Protocol);
        Assert.Equal("separate", CampaignPresets.Get(CampaignPresets.ArithmeticSeparate).Roles.Parameters);
        Assert.Equal(CampaignPresets.MathQwenDefaultPath, CampaignPresets.Get(CampaignPresets.MathQwen).Model.Path);
        var e = Assert.Throws<ArgumentException>(() => CampaignPresets.Get("nope"));
        Assert.Contains("arithmetic-demo", e.Message);
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using ReMA.Abstractions.Campaigns;
using ReMA.Client.Experiments;
using ReMA.Grains.Campaigns;

namespace ReMA.Client.Tests;

public class ExperimentPlanTests
{
    [Fact]
    public void ArithmeticPaper_ResolvesToSevenArmsFromFourStartingPoints_WithEqualBudgets()
    {
        ExperimentPlan plan = ExperimentPlan.Create(ExperimentPresets.Get(ExperimentPresets.ArithmeticPaper), "preset");
        Assert.Equal(["vrp-rl", "mrp-rl", "rema-single-turn", "rema-multi-turn", "rema-separate", "rema-token-ratio", "more-sft"], plan.Arms.Select(a => a.Name));
        Assert.Equal([1L, 2L, 3L], plan.Seeds);
        Assert.Equal(["vrp", "mrp", "rema-single-turn", "rema-multi-turn"], plan.Starts.Select(s => s.Protocol));
        Assert.Equal(["test", "ood-operands", "ood-large"], plan.EvalSets);
        Assert.Equal(40L * 16 * 8, plan.EpisodesPerRlArm);
        // Separate parameters, the token-ratio ablation and the SFT control start from multi-turn ReMA's shared checkpoint.
        StartPoint multi = plan.Arms.Single(a => a.Name == "rema-multi-turn").Start;
        Assert.All(plan.Arms.Where(a => a.Name is "rema-separate" or "rema-token-ratio" or "more-sft"), a => Assert.Same(multi, a.Start));
        Assert.Equal("arithmetic-paper.sft-rema-multi-turn", multi.Campaign);
        Assert.Equal(0, multi.Config.Steps);
        Assert.Equal("shared", multi.Config.Roles.Parameters);
        Assert.True(multi.Config.Sft.Enabled);
        Assert.Equal(800, multi.Config.Sft.Steps);
        PlannedArm vrp = plan.Arms[0];
        Assert.Equal(("vrp", "full", 96), (vrp.Config.Protocol, vrp.Config.View, vrp.Config.Limits.MaxTokensPerTurn));
        Assert.Equal("token", plan.Arms.Single(a => a.Name == "rema-token-ratio").Config.Algorithm.Ratio);
        Assert.Equal("turn-geometric", plan.Arms.Single(a => a.Name == "rema-multi-turn").Config.Algorithm.Ratio);

        CampaignConfig rl = plan.RlRun(plan.Arms.Single(a => a.Name == "rema-separate"), 2, "/ckpt");
        Assert.Equal("arithmetic-paper.rema-separate.s2", rl.Name);
        Assert.Equal((2L, "/ckpt", (string?)null), (rl.Seed, rl.Model.Path, rl.Model.Preset));
        Assert.False(rl.Sft.Enabled);
        Assert.False(rl.Eval.AtStart);
        Assert.Equal(("separate", "simultaneous"), (rl.Roles.Parameters, rl.Roles.Schedule));
        Assert.Empty(CampaignConfigValidation.Errors(rl));

        CampaignConfig sft = plan.SftRun(plan.Arms.Single(a => a.Name == "more-sft"), 3, "/ckpt", 123);
        Assert.Equal((0, 123, "constant"), (sft.Steps, sft.Sft.Steps, sft.Sft.Schedule));
        Assert.Equal(0.1 * CampaignPresets.Get(CampaignPresets.ArithmeticDemo).Sft.LearningRate, sft.Sft.LearningRate, 12);   // a tenth of the warm start's rate
        Assert.True(sft.Sft.Enabled);
        Assert.Empty(CampaignConfigValidation.Errors(sft));

        ExperimentPlan quick = ExperimentPlan.Create(ExperimentPresets.Get(ExperimentPresets.ArithmeticPaper), "preset", quick: true);
        Assert.Equal([1L, 2L], quick.Seeds);
        Assert.Equal(8L * 8 * 8, quick.EpisodesPerRlArm);
        Assert.All(quick.Arms, a => Assert.Equal((100, 100), (a.Config.Sft.Steps, a.Config.Eval.MaxProblems)));
    }

    [Fact]
    public void ArithmeticStepReward_ComparesOutcomeAndStepRewardsFromOneStart_WithTheSftControl()
    {
        ExperimentPlan plan = ExperimentPlan.Create(ExperimentPresets.Get(ExperimentPresets.ArithmeticStepReward), "preset");
        Assert.Equal(["outcome", "step-reward", "more-sft"], plan.Arms.Select(a => a.Name));
        Assert.Single(plan.Starts);
        Assert.Equal(250L * 16 * 8, plan.EpisodesPerRlArm);
        PlannedArm outcome = plan.Arms[0], steps = plan.Arms[1];
        Assert.Equal((0.0, 1.0), (outcome.Config.Algorithm.StepRewardWeight, steps.Config.Algorithm.StepRewardWeight));
        Assert.All(new[] { outcome, steps }, a => Assert.Equal((1e-4, false), (a.Config.Algorithm.LearningRate, a.Config.Algorithm.OverlapRollout)));
        Assert.Empty(CampaignConfigValidation.Errors(plan.RlRun(steps, 1, "/ckpt")));
        ExperimentPlan quick = ExperimentPlan.Create(ExperimentPresets.Get(ExperimentPresets.ArithmeticStepReward), "preset", quick: true);
        Assert.Equal([1L], quick.Seeds);
        Assert.Equal(8L * 8 * 8, quick.EpisodesPerRlArm);
    }

    [Fact]
    public void BadExperiment_ReportsEveryProblemAtOnce_ByField()
    {
        var e = new ExperimentConfig
        {
            Name = "bad name",
            Seeds = [1, 1],
            Arms =
            [
                new ArmSpec { Name = "a" },
                new ArmSpec { Name = "a", Campaign = JsonNode.Parse("""{"steps": 10}""")!.AsObject() },
                new ArmSpec { Name = "c", Kind = "more" },
                new ArmSpec { Name = "d", Kind = "sft", ComputeOf = "nobody" },
                new ArmSpec { Name = "e", Campaign = JsonNode.Parse("""{"protocol": "solo"}""")!.AsObject() },
                new ArmSpec { Name = "f", Campaign = JsonNode.Parse("""{"limits": {"max_turnz": 3}}""")!.AsObject() },
                new ArmSpec { Name = "g", SftSteps = 5 },
            ],
        };
        var error = Assert.Throws<ArgumentException>(() => ExperimentPlan.Create(e, "exp.json"));
        Assert.StartsWith("exp.json: ", error.Message);
        Assert.Contains("name: 'bad name' must be", error.Message);
        Assert.Contains("seeds: seeds must differ (1, 1)", error.Message);
        Assert.Contains("arms[1].name: 'a' is used by an earlier arm", error.Message);
        Assert.Contains("arms[2].kind: 'more' must be rl or sft", error.Message);
        Assert.Contains("arms[3].compute_of: 'nobody' is not an rl arm", error.Message);
        Assert.Contains("arms[4].campaign (e): 1 invalid field(s):\n  protocol: 'solo' is not one of", error.Message);
        Assert.Contains("arms[5].campaign (f): 1 invalid field(s):\n  limits.max_turnz: unknown field (did you mean 'max_turns'?)", error.Message);
        Assert.Contains("arms[6]: sft_steps, compute_of and sft_learning_rate belong to sft arms", error.Message);

        // Equal budgets are checked once every arm resolves.
        var unequal = new ExperimentConfig
        {
            Name = "unequal",
            Arms = [new ArmSpec { Name = "a" }, new ArmSpec { Name = "b", Campaign = JsonNode.Parse("""{"prompts_per_step": 8}""")!.AsObject() }],
        };
        var budget = Assert.Throws<ArgumentException>(() => ExperimentPlan.Create(unequal, "u.json"));
        Assert.Contains("RL arms must have equal budgets (steps x prompts_per_step x group_size episodes): a 7680, b 3840", budget.Message);

        var noQuick = new ExperimentConfig { Name = "q", Arms = [new ArmSpec { Name = "a" }] };
        Assert.Contains("quick: --quick needs a quick section", Assert.Throws<ArgumentException>(() => ExperimentPlan.Create(noQuick, "q.json", quick: true)).Message);
        Assert.Contains("base: preset 'nope' is not known", Assert.Throws<ArgumentException>(() => ExperimentPlan.Create(noQuick with { Base = "nope" }, "q.json")).Message);

        // The arms' task must have the splits they use: reported once when every arm lacks it, else by arm.
        var splits = new ExperimentConfig
        {
            Name = "splits",
            Campaign = JsonNode.Parse("""{"eval": {"sets": ["test", "ood-operandz"]}}""")!.AsObject(),
            Arms = [new ArmSpec { Name = "a" }, new ArmSpec { Name = "b", Campaign = JsonNode.Parse("""{"task": {"train_split": "nope"}}""")!.AsObject() }],
        };
        string refused = Assert.Throws<ArgumentException>(() => ExperimentPlan.Create(splits, "s.json")).Message;
        Assert.StartsWith("s.json: 2 problem(s):", refused);
        Assert.Contains("\n  campaign.eval.sets[1]: 'ood-operandz' is not a split of task 'arithmetic' (its splits: train, test, validation, ood-operands, ood-large, ood-nested)", refused);
        Assert.Contains("\n  arms[1].campaign.task.train_split: 'nope' is not a split of task 'arithmetic'", refused);
    }

    [Fact]
    public void ExperimentFiles_ReadJsonAndYaml_AndNameTheFieldOrFileThatIsWrong()
    {
        string dir = Directory.CreateTempSubdirectory("rema-exp-").FullName;
        string yaml = Path.Combine(dir, "e.yaml");
        File.WriteAllText(yaml, """
            name: yaml-exp
            base: arithmetic-demo
            seeds: [4, 5]
            campaign:
              steps: 3
              task:
                options:
                  eval_size: "50"
            arms:
              - name: multi
              - name: control
                kind: sft
                sft_steps: 7
                sft_learning_rate: 0.0002
            """);
        ExperimentConfig e = ExperimentFile.Load(yaml);
        ExperimentPlan plan = ExperimentPlan.Create(e, yaml);
        Assert.Equal([4L, 5L], plan.Seeds);
        CampaignConfig multi = plan.Arms[0].Config;
        Assert.Equal(3, multi.Steps);
        // Task options merge key by key: the preset's other options stay.
        Assert.Equal("50", multi.Task.Options["eval_size"]);
        Assert.Equal("fresh", multi.Task.Options["problems"]);
        Assert.Equal(2e-4, plan.SftRun(plan.Arms[1], 4, "/c", 7).Sft.LearningRate, 12);

        string json = Path.Combine(dir, "e.json");
        File.WriteAllText(json, """{ "name": "x", "arms": [], "sedes": [1] }""");
        Assert.Contains($"{json}: 1 invalid field(s):\n  sedes: unknown field (did you mean 'seeds'?)", Assert.Throws<ArgumentException>(() => ExperimentFile.Load(json)).Message);
        File.WriteAllText(json, """{ "name": "x", "seeds": "one" }""");
        Assert.Contains($"{json}: 1 invalid field(s):\n  seeds: expected a list, got string \"one\"", Assert.Throws<ArgumentException>(() => ExperimentFile.Load(json)).Message);
        string missing = Path.Combine(dir, "none.json");
        Assert.Contains($"{missing}: experiment file not found", Assert.Throws<FileNotFoundException>(() => ExperimentFile.Load(missing)).Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Estimate_IsTheMeanWithAStudentTInterval()
    {
        Estimate three = Estimate.Of([0.4, 0.5, 0.6]);
        Assert.Equal(0.5, three.Mean, 12);
        Assert.Equal(4.303 * 0.1 / Math.Sqrt(3), three.HalfWidth, 9);
        Assert.Equal("50.0 ± 24.8", three.Percent());
        Estimate two = Estimate.Of([0.2, 0.3]);
        Assert.Equal(12.706 * Math.Sqrt(0.005) / Math.Sqrt(2), two.HalfWidth, 9);
        Estimate one = Estimate.Of([0.25]);
        Assert.True(double.IsNaN(one.HalfWidth));
        Assert.Equal("25.0", one.Percent());
        Assert.Equal("-", Estimate.Of([]).Percent());
        Assert.Equal(1.96, Estimate.StudentT975(1000));
        Assert.Equal(2.045, Estimate.StudentT975(29));
    }

    [Fact]
    public void Evaluation_AtStartCanBeSkipped_TheEndIsAlwaysEvaluated()
    {
        var c = new CampaignConfig { Steps = 40, Eval = new EvalSpec { Interval = 20 } };
        Assert.True(CampaignGrain.ShouldEvaluate(c, 0));
        Assert.False(CampaignGrain.ShouldEvaluate(c, 10));
        Assert.True(CampaignGrain.ShouldEvaluate(c, 20));
        Assert.True(CampaignGrain.ShouldEvaluate(c, 40));
        var skip = c with { Eval = c.Eval with { AtStart = false, Interval = 40 } };
        Assert.False(CampaignGrain.ShouldEvaluate(skip, 0));
        Assert.False(CampaignGrain.ShouldEvaluate(skip, 20));
        Assert.True(CampaignGrain.ShouldEvaluate(skip, 40));
        Assert.True(CampaignGrain.ShouldEvaluate(skip with { Steps = 0 }, 0));   // an SFT-only campaign evaluates its result
    }
}

[Collection("console")]
public class ExperimentCommandTests
{
    [Fact]
    public async Task Experiment_TrainsEveryArmUnderEverySeed_WritesTheReport_AndASecondRunReusesTheCampaigns()
    {
        string name = "exp-" + Guid.NewGuid().ToString("N")[..8];
        string file = Path.Combine(Path.GetTempPath(), name + ".json");
        File.WriteAllText(file, $$"""
            {
              "name": "{{name}}",
              "base": "arithmetic-demo",
              "campaign": {
                "task": { "options": { "train_size": "40", "eval_size": "6" } },
                "steps": 2, "prompts_per_step": 2, "group_size": 2,
                "limits": { "max_turns": 3, "max_tokens_per_turn": 10 },
                "algorithm": { "overlap_rollout": false },
                "sft": { "demonstrations": 8, "steps": 4, "batch_rows": 16 },
                "eval": { "sets": ["test", "ood-operands"], "interval": 2, "max_problems": 3 }
              },
              "seeds": [1, 2],
              "arms": [
                { "name": "shared" },
                { "name": "separate", "campaign": { "roles": { "parameters": "separate" } } },
                { "name": "control", "kind": "sft", "compute_of": "shared" }
              ]
            }
            """);
        (int code, string output) = await CliRunner.RunAsync("experiment", file, "--silo-port", "27111");
        Assert.True(code == 0, output);
        string folder = Path.Combine("runs", name);
        string report = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.Contains($"# Experiment {name}", report);
        Assert.Contains($"Command: `rema experiment {file} --silo-port 27111`", report);
        Assert.Contains("every RL arm generates 8 episodes per seed (2 steps x 2 prompts x 2 episodes)", report);
        Assert.Contains("| arm | kind | starts from | test | ood-operands | change on test |", report);
        Assert.Contains($"| *{name}.sft-rema-multi-turn* | start | - |", report);
        foreach (string arm in new[] { "shared", "separate", "control" })
        {
            Assert.Matches($@"\| {arm} \| (rl|sft) \| {name}\.sft-rema-multi-turn \| \d+\.\d ± \d+\.\d \| \d+\.\d ± \d+\.\d \|", report);
            Assert.Contains($"| {name}.{arm}.s1 | 1 |", report);
            Assert.Contains($"| {name}.{arm}.s2 | 2 |", report);
        }
        Assert.Contains("![training accuracy per RL step, mean over seeds](curves.png)", report);
        Assert.True(new FileInfo(Path.Combine(folder, "curves.png")).Length > 1000);
        Assert.Equal(7, Directory.GetFiles(Path.Combine(folder, "configs")).Length);
        CampaignConfig separate = CampaignFile.Load(Path.Combine(folder, "configs", $"{name}.separate.s2.json"));
        Assert.Equal(("separate", 2L, false), (separate.Roles.Parameters, separate.Seed, separate.Sft.Enabled));
        Assert.EndsWith("step-00000001", separate.Model.Path);

        using JsonDocument results = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json")));
        JsonElement arms = results.RootElement.GetProperty("arms");
        Assert.Equal(3, arms.GetArrayLength());
        foreach (JsonElement arm in arms.EnumerateArray())
        {
            Assert.Equal(2, arm.GetProperty("seeds").GetInt32());
            JsonElement test = arm.GetProperty("accuracy").GetProperty("test");
            Assert.InRange(test.GetProperty("mean").GetDouble(), 0, 1);
            Assert.Equal(2, test.GetProperty("n").GetInt32());
        }
        JsonElement control = arms.EnumerateArray().Single(a => a.GetProperty("arm").GetString() == "control");
        Assert.True(control.GetProperty("sft_steps").GetDouble() >= 1);
        Assert.Equal(0, control.GetProperty("episodes").GetDouble());
        JsonElement shared = arms.EnumerateArray().Single(a => a.GetProperty("arm").GetString() == "shared");
        Assert.Equal(8, shared.GetProperty("episodes").GetDouble());
        Assert.True(shared.GetProperty("generated_tokens").GetDouble() > 0);
        Assert.Matches(@"control seed 1: \d+ SFT steps = \d+ s of shared's RL stage", output);

        // The same experiment again: every campaign completed with the same configuration, so nothing is trained. One
        // stored configuration is written as an older version wrote it, without a setting added since (at its default
        // value): still the same configuration.
        string stored = Path.Combine(folder, "..", $"{name}.shared.s1", "campaign.json");
        string older = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(stored), @",\s*""step_reward_weight"": 0", "");
        Assert.DoesNotContain("step_reward_weight", older);
        File.WriteAllText(stored, older);
        (int again, string second) = await CliRunner.RunAsync("experiment", file, "--silo-port", "27111", "--json");
        Assert.True(again == 0, second);
        Assert.Equal(7, second.Split('\n').Count(l => l.EndsWith("completed earlier with the same configuration; reused", StringComparison.Ordinal)));
        Assert.DoesNotContain("sft: ", second);
        Assert.Contains("\"reused\": true", second);

        (int bad, string error) = await CliRunner.RunAsync("experiment", file, "--quick");
        Assert.Equal(2, bad);
        Assert.Contains("quick: --quick needs a quick section", error);
        (int none, string noneError) = await CliRunner.RunAsync("experiment");
        Assert.Equal(2, none);
        Assert.Contains("give an experiment file or --preset (arithmetic-paper, arithmetic-step-reward)", noneError);
        (int printed, string preset) = await CliRunner.RunAsync("experiment", "--preset", "arithmetic-paper", "--print");
        Assert.Equal(0, printed);
        Assert.Equal("arithmetic-paper", ExperimentFile.Parse(preset, "printed").Name);
    }
}

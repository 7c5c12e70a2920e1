using ReMA.Abstractions.Campaigns;

namespace ReMA.Client.Tests;

[Collection("console")]
public class TrainCommandTests
{
    [Fact]
    public async Task Train_RunsACampaignOnAnEmbeddedSilo_ThenStatusListEpisodesAndEvalReadWhatItWrote()
    {
        var config = new CampaignConfig
        {
            Name = "cli-" + Guid.NewGuid().ToString("N")[..8],
            Task = new TaskSpec { Options = new() { ["train_size"] = "20", ["eval_size"] = "4", ["prompts"] = "none" } },
            GroupSize = 2,
            PromptsPerStep = 2,
            Steps = 2,
            Limits = new LimitsSpec { MaxTurns = 2, MaxTokensPerTurn = 8, MaxContextTokens = 1000, StopWhenTruncated = false },
            Sft = new SftSpec { Demonstrations = 4, Epochs = 1, BatchRows = 16 },
            Eval = new EvalSpec { Sets = ["test"], Interval = 1, MaxProblems = 2 },
            // A turn-limit threshold every step crosses, so the collapse warning must reach the follower's lines.
            Monitor = new MonitorSpec { TurnsFraction = 0.01 },
        };
        var output = new StringWriter();
        int code = await TrainCommand.RunAsync(config, 22111, 32111, output, CancellationToken.None);
        string log = output.ToString();
        Assert.True(code == 0, log);
        Assert.Contains("sft: ", log);
        Assert.Contains("step 1 (2/2 done): reward", log);
        Assert.Contains("eval after 2 steps: test pass@1", log);
        Assert.Contains("warning: step 0: episodes run 2.0 rounds on average, near max_turns 2 (possible collapse", log);
        Assert.True(File.Exists(Path.Combine("runs", config.Name, "history.json")));
        Assert.Equal(config.Name, CampaignFile.Load(Path.Combine("runs", config.Name, "campaign.json")).Name);
        Assert.Equal(2 * 2 * 2, File.ReadAllLines(Path.Combine("runs", config.Name, "episodes.jsonl")).Length);

        (int statusCode, string status) = await CliRunner.RunAsync("status", config.Name);
        Assert.Equal(0, statusCode);
        Assert.Contains($"{config.Name}: completed, stage done, 2/2 steps done", status);
        Assert.Contains("eval after 0 steps: test pass@1", status);

        (int listCode, string list) = await CliRunner.RunAsync("list", "--json");
        Assert.Equal(0, listCode);
        Assert.Contains($"\"Name\": \"{config.Name}\"", list);

        (int episodesCode, string episodes) = await CliRunner.RunAsync("episodes", config.Name, "--step", "1");
        Assert.Equal(0, episodesCode);
        string firstId = episodes.Split('\n')[0].Split(' ')[0];
        Assert.StartsWith($"{config.Name}-s1-p", firstId);
        (int showCode, string show) = await CliRunner.RunAsync("episodes", config.Name, "--show", firstId);   // the step from the id
        Assert.Equal(0, showCode);
        Assert.Contains("[round 0] meta (v", show);

        (int missingCode, _) = await CliRunner.RunAsync("status", "no-such-campaign");
        Assert.Equal(1, missingCode);
        (int pauseCode, string pauseError) = await CliRunner.RunAsync("pause", config.Name);
        Assert.Equal(2, pauseCode);
        Assert.Contains("needs a cluster", pauseError);

        string checkpoint = Directory.GetDirectories(Path.Combine("runs", config.Name, "checkpoints", config.Name + ".shared")).Order(StringComparer.Ordinal).Last();
        string transcripts = Path.Combine(Path.GetTempPath(), config.Name + "-eval.jsonl");
        (int evalCode, string eval) = await CliRunner.RunAsync("eval", "--checkpoint", checkpoint, "--option", "prompts=none", "--option", "eval_size=4",
            "--max-problems", "3", "--k", "2", "--max-turns", "2", "--max-tokens-per-turn", "8", "--transcripts", transcripts, "--json");
        Assert.True(evalCode == 0, eval);
        string[] episodesWritten = File.ReadAllLines(transcripts);
        Assert.Equal(3, episodesWritten.Length);
        Assert.All(episodesWritten, line => Assert.Contains("\"turns\":[{\"round\":0,\"role\":\"meta\"", line));
        Assert.Contains("\"Problems\": 3", eval);
        Assert.Contains("\"K\": 2", eval);
        Assert.Contains("\"SampledPassAt1\": ", eval);
        (int badEvalCode, string badEval) = await CliRunner.RunAsync("eval", "--checkpoint", checkpoint, "--option", "prompts");
        Assert.Equal(2, badEvalCode);
        Assert.Contains("--option 'prompts' must be key=value", badEval);

        // The silo stored every episode (2 steps x 2 prompts x 2, plus the evaluation episodes); export them.
        string jsonl = Path.Combine(Path.GetTempPath(), config.Name + "-episodes.jsonl");
        (int exportCode, string exported) = await CliRunner.RunAsync("export", config.Name, "--out", jsonl);
        Assert.True(exportCode == 0, exported);
        var documents = File.ReadAllLines(jsonl).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(8, documents.Count(d => !d.GetProperty("evaluation").GetBoolean()));
        Assert.True(documents.Count(d => d.GetProperty("evaluation").GetBoolean()) >= 2);
        Assert.All(documents, d => Assert.True(d.GetProperty("rows").GetArrayLength() > 0));
        string parquet = Path.Combine(Path.GetTempPath(), config.Name + "-rows.parquet");
        (int parquetCode, string parquetOut) = await CliRunner.RunAsync("export", config.Name, "--format", "parquet", "--out", parquet, "--step", "1");
        Assert.True(parquetCode == 0, parquetOut);
        await using (var stream = File.OpenRead(parquet))
        {
            var rows = (await Parquet.Serialization.ParquetSerializer.DeserializeAsync<TrajectoryRowRecord>(stream)).Data;
            Assert.NotEmpty(rows);
            Assert.All(rows, r => Assert.Equal(1, r.Step));
            Assert.All(rows, r => Assert.Equal(r.TokenIds.Count, r.OldLogProbs.Count));
        }
        (int searchCode, string found) = await CliRunner.RunAsync("search", config.Name, "--eval", "false", "--sort", "id", "--page-size", "3", "--json");
        Assert.True(searchCode == 0, found);
        using (var page = System.Text.Json.JsonDocument.Parse(found))
        {
            Assert.Equal(8, page.RootElement.GetProperty("Total").GetInt32());
            Assert.Equal(3, page.RootElement.GetProperty("Pages").GetInt32());
            Assert.Equal(3, page.RootElement.GetProperty("Episodes").GetArrayLength());
        }
        (int viaEpisodes, string foundViaEpisodes) = await CliRunner.RunAsync("episodes", "search", config.Name, "--eval", "false", "--sort", "id", "--page-size", "3", "--json");
        Assert.True(viaEpisodes == 0, foundViaEpisodes);
        Assert.Equal(found, foundViaEpisodes);
        (int badSearch, string badSearchText) = await CliRunner.RunAsync("search", config.Name, "--page-size", "0");
        Assert.Equal(2, badSearch);
        Assert.Contains("--page-size must be between 1 and 500 (got 0)", badSearchText);
        await ReplayChecks.RunAsync(config.Name + "-s1-p0-e0", gateway: null);

        (int noneCode, string none) = await CliRunner.RunAsync("export", "no-such-campaign");
        Assert.Equal(1, noneCode);
        Assert.Contains("no stored episodes of campaign 'no-such-campaign'", none);
    }
}

[Collection("console")]
public class TrainFileErrorTests
{
    [Fact]
    public async Task Train_ReportsEveryBadFieldOfTheFileAndTheSplitsItsTaskLacks_InOneErrorBeforeSubmitting()
    {
        string dir = Directory.CreateTempSubdirectory("rema-train-").FullName;
        string file = Path.Combine(dir, "bad.yaml");
        File.WriteAllText(file, "group_size: eight\nlimits:\n  max_turn: 3\neval:\n  sets: [test, ood-operandz]\n  intervall: 5\nsteps: -1\n");
        (int code, string output) = await CliRunner.RunAsync("train", "--file", file);
        Assert.Equal(2, code);
        Assert.Contains($"error: {file}: 5 invalid field(s):\n  ", output);
        foreach (string expected in new[]
        {
            "\n  group_size: expected an integer, got string \"eight\"",
            "\n  limits.max_turn: unknown field (did you mean 'max_turns'?)",
            "\n  eval.intervall: unknown field (did you mean 'interval'?)",
            "\n  steps: must be >= 0 (got -1)",
            "\n  eval.sets[1]: 'ood-operandz' is not a split of task 'arithmetic' (its splits: train, test, validation, ood-operands, ood-large, ood-nested)",
        })
        {
            Assert.Contains(expected, output);
        }

        // A file that is otherwise fine: the unknown set alone is refused, before anything is submitted.
        string json = Path.Combine(dir, "sets.json");
        File.WriteAllText(json, """{ "name": "sets", "eval": { "sets": ["test", "ood-nestedd"] } }""");
        var error = Assert.Throws<ArgumentException>(() => TrainCommand.ReadConfig(json, null));
        Assert.Equal($"{json}: 1 invalid field(s):\n  eval.sets[1]: 'ood-nestedd' is not a split of task 'arithmetic' (its splits: train, test, validation, ood-operands, ood-large, ood-nested)", error.Message);
        File.WriteAllText(json, """{ "name": "sets", "eval": { "sets": ["test", "ood-nested"] } }""");
        Assert.Equal(["test", "ood-nested"], TrainCommand.ReadConfig(json, null, name: "other").Eval.Sets);
        Directory.Delete(dir, true);
    }
}

[Collection("console")]
public class TrainPrintTests
{
    [Fact]
    public async Task TrainPrint_WritesAPresetWithItsOverrides_AsACampaignFileThatReadsBackEqual()
    {
        (int code, string output) = await CliRunner.RunAsync("train", "--preset", CampaignPresets.ArithmeticDemo, "--steps", "7", "--sft-steps", "11", "--name", "printed", "--print");
        Assert.True(code == 0, output);
        string dir = Directory.CreateTempSubdirectory("rema-print-").FullName;
        string file = Path.Combine(dir, "printed.json");
        File.WriteAllText(file, output);
        CampaignConfig read = TrainCommand.ReadConfig(file, null);
        CampaignConfig expected = CampaignPresets.Get(CampaignPresets.ArithmeticDemo) with { Name = "printed", Steps = 7 };
        expected = expected with { Sft = expected.Sft with { Steps = 11 } };
        Assert.Equal(CampaignFile.Write(expected), CampaignFile.Write(read));
        Assert.Equal((7, 11), (read.Steps, read.Sft.Steps));
        Directory.Delete(dir, true);

        (int bad, string said) = await CliRunner.RunAsync("train", "--preset", CampaignPresets.ArithmeticDemo, "--sft-steps", "-1", "--print");
        Assert.Equal(2, bad);
        Assert.Contains("--sft-steps must be 0 or more (got -1)", said);
    }
}

/// <summary>Runs the rema command tree in this process with the console captured (tests in the "console" collection only).</summary>
internal static class CliRunner
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        await Gate.WaitAsync();
        TextWriter stdout = Console.Out, stderr = Console.Error;
        var captured = new StringWriter();
        try
        {
            Console.SetOut(captured);
            Console.SetError(captured);
            int code = await Cli.Root().Parse(args).InvokeAsync();
            return (code, captured.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Gate.Release();
        }
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReMA.Abstractions.Campaigns;
using ReMA.Silo;

namespace ReMA.Client.Tests;

[Collection("console")]
public class ClusterCommandTests
{
    /// <summary>A small campaign (untrained nano model, no SFT) written as a campaign file in the temp folder.</summary>
    private static string CampaignFileOf(string name, int steps, bool stopWhenTruncated = true)
    {
        var config = new CampaignConfig
        {
            Name = name,
            Task = new TaskSpec { Options = new() { ["train_size"] = "20", ["eval_size"] = "4", ["prompts"] = "none" } },
            GroupSize = 2,
            PromptsPerStep = 2,
            Steps = steps,
            Limits = new LimitsSpec { MaxTurns = 2, MaxTokensPerTurn = 8, MaxContextTokens = 1000, StopWhenTruncated = stopWhenTruncated },
            Sft = new SftSpec { Enabled = false },
            Eval = new EvalSpec { Sets = ["test"], Interval = 500, MaxProblems = 2 },
        };
        string file = Path.Combine(Path.GetTempPath(), name + ".json");
        File.WriteAllText(file, CampaignFile.Write(config));
        return file;
    }

    [Fact]
    public async Task TrainDetachPauseResumeCancelStatusAndList_WorkAgainstARunningSiloThroughItsGateway()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddReMAEmbeddedSilo(23111, 33111);
        using IHost silo = builder.Build();
        await silo.StartAsync();
        try
        {
            string name = "gw-" + Guid.NewGuid().ToString("N")[..8];
            string file = CampaignFileOf(name, steps: 1000);

            (int submit, string submitted) = await CliRunner.RunAsync("train", "--file", file, "--gateway", "33111", "--detach");
            Assert.True(submit == 0, submitted);
            Assert.Contains($"campaign {name} submitted", submitted);

            (int pause, string paused) = await CliRunner.RunAsync("pause", name, "--gateway", "33111");
            Assert.True(pause == 0, paused);
            Assert.Contains($"{name}: paused", paused);
            (int resume, string resumed) = await CliRunner.RunAsync("resume", name, "--gateway", "33111");
            Assert.True(resume == 0, resumed);
            Assert.Contains($"{name}: running", resumed);
            (int cancel, string cancelled) = await CliRunner.RunAsync("cancel", name, "--gateway", "33111", "--json");
            Assert.True(cancel == 0, cancelled);
            Assert.Contains("\"Status\": \"cancelled\"", cancelled);

            (int list, string listed) = await CliRunner.RunAsync("list", "--gateway", "33111");
            Assert.Equal(0, list);
            Assert.Contains(name, listed);
            (int status, string shown) = await CliRunner.RunAsync("status", name, "--gateway", "33111");
            Assert.Equal(0, status);
            Assert.Contains($"{name}: cancelled", shown);
            (int missing, _) = await CliRunner.RunAsync("status", "nobody", "--gateway", "33111");
            Assert.Equal(1, missing);
        }
        finally
        {
            await silo.StopAsync();
        }
    }

    [Fact]
    public async Task TrainFollow_PicksUpACampaignSubmittedEarlier_WithoutDuplicatingEpisodes()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddReMAEmbeddedSilo(26111, 36111);
        using IHost silo = builder.Build();
        await silo.StartAsync();
        try
        {
            string name = "follow-" + Guid.NewGuid().ToString("N")[..8];
            string file = CampaignFileOf(name, steps: 3, stopWhenTruncated: false);
            (int submit, string submitted) = await CliRunner.RunAsync("train", "--file", file, "--gateway", "36111", "--detach");
            Assert.True(submit == 0, submitted);

            (int code, string followed) = await CliRunner.RunAsync("train", "--follow", name, "--gateway", "36111", "--plain");
            Assert.True(code == 0, followed);
            Assert.Contains($"campaign {name} completed", followed);
            Assert.Contains("step 2 (3/3 done)", followed);
            // Following again (say after a lost connection) reports the end and appends nothing twice.
            (int again, string second) = await CliRunner.RunAsync("train", "--follow", name, "--gateway", "36111", "--plain");
            Assert.True(again == 0, second);
            var episodes = File.ReadLines(Path.Combine("runs", name, "episodes.jsonl"))
                .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(12, episodes.Count);                  // 3 steps x 2 prompts x 2 episodes, once each
            Assert.Equal(12, episodes.Select(e => e.GetProperty("EpisodeId").GetString()).Distinct().Count());
            Assert.Equal([0L, 1L, 2L], episodes.Select(e => e.GetProperty("Step").GetInt64()).Distinct().Order());

            await ReplayChecks.RunAsync(name + "-s2-p1-e0", gateway: "36111", pinnedVersion: 3);

            (int missing, string notFound) = await CliRunner.RunAsync("train", "--follow", "nobody-" + name, "--gateway", "36111");
            Assert.Equal(1, missing);
            Assert.Contains("the cluster has no campaign", notFound);
        }
        finally
        {
            await silo.StopAsync();
        }
    }

    [Fact]
    public async Task Commands_ReportANonAnsweringGatewayWithExitCode3_InOneLine_OrAsJson()
    {
        (int code, string output) = await CliRunner.RunAsync("status", "x", "--gateway", "39999");
        Assert.Equal(3, code);
        Assert.Contains("no cluster answers at gateway port 39999", output);
        // One line: the Orleans client's warnings and stack traces go to the log file, not the console.
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        (int jsonCode, string jsonOutput) = await CliRunner.RunAsync("status", "x", "--gateway", "39999", "--json");
        Assert.Equal(3, jsonCode);
        using var error = System.Text.Json.JsonDocument.Parse(jsonOutput);
        Assert.Contains("no cluster answers at gateway port 39999", error.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Status_OfAFailedCampaign_ExitsWith1_AndShowsItsWarningOrError()
    {
        string name = "failed-" + Guid.NewGuid().ToString("N")[..8];
        string folder = Path.Combine("runs", name);
        Directory.CreateDirectory(folder);
        try
        {
            var failed = new CampaignStatus(name, "failed", "rl", 3, 10, null, [], null, "storage lost the campaign's data", 1);
            File.WriteAllText(Path.Combine(folder, "history.json"), System.Text.Json.JsonSerializer.Serialize(new CampaignRecord(failed, [], [])));
            (int code, string output) = await CliRunner.RunAsync("status", name);
            Assert.Equal(1, code);
            Assert.Contains($"{name}: failed", output);
            Assert.Contains("error: storage lost the campaign's data", output);
            (int listCode, string listed) = await CliRunner.RunAsync("list");
            Assert.Equal(0, listCode);
            Assert.Contains(listed.Split('\n'), l => l.StartsWith(name, StringComparison.Ordinal) && l.Contains("error: storage lost", StringComparison.Ordinal));

            var warned = failed with { Status = "running", Error = null, Warning = "storage lost its data: RequestFailedException: The specified container does not exist." };
            File.WriteAllText(Path.Combine(folder, "history.json"), System.Text.Json.JsonSerializer.Serialize(new CampaignRecord(warned, [], [])));
            (int runningCode, string running) = await CliRunner.RunAsync("status", name);
            Assert.Equal(0, runningCode);
            Assert.Contains("warning: storage lost its data", running);
            (_, listed) = await CliRunner.RunAsync("list");
            Assert.Contains(listed.Split('\n'), l => l.StartsWith(name, StringComparison.Ordinal) && l.Contains("warning: storage lost its data", StringComparison.Ordinal));

            (int missing, string missingJson) = await CliRunner.RunAsync("status", "nobody-" + name, "--json");
            Assert.Equal(1, missing);
            using var error = System.Text.Json.JsonDocument.Parse(missingJson);
            Assert.Contains("no campaign", error.RootElement.GetProperty("error").GetString());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Follower_ExitsWith1_WhenItsCampaignDisappearsFromTheCluster()
    {
        string state = Path.Combine(Path.GetTempPath(), "rema-gone-" + Guid.NewGuid().ToString("N")[..8]);
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ReMA:Storage:Folder"] = state;
        builder.AddReMAEmbeddedSilo(27111, 37111);
        using IHost silo = builder.Build();
        await silo.StartAsync();
        try
        {
            string name = "gone-" + Guid.NewGuid().ToString("N")[..8];
            string file = CampaignFileOf(name, steps: 1000);
            (int submit, string submitted) = await CliRunner.RunAsync("train", "--file", file, "--gateway", "37111", "--detach");
            Assert.True(submit == 0, submitted);
            Task<(int Code, string Output)> follower = CliRunner.RunAsync("train", "--follow", name, "--gateway", "37111", "--plain");
            var grains = silo.Services.GetRequiredService<IGrainFactory>();
            ICampaignGrain campaign = grains.GetGrain<ICampaignGrain>(name);
            for (int i = 0; i < 600 && (await campaign.Status()).NextStep < 2; i++)
            {
                await Task.Delay(100);
            }
            // The campaign's stored state goes away (as when storage loses its data): its next write is refused, the
            // activation reloads, and the grain comes back without a campaign.
            foreach (string f in Directory.GetFiles(state, "*.bin", SearchOption.AllDirectories).Where(f => f.Contains(name, StringComparison.Ordinal) && f.Contains("campaign", StringComparison.Ordinal)))
            {
                File.Delete(f);
            }
            Task finished = await Task.WhenAny(follower, Task.Delay(TimeSpan.FromSeconds(120)));
            Assert.True(finished == follower, "the follower did not notice that its campaign is gone");
            (int code, string output) = await follower;
            Assert.Equal(1, code);
            Assert.Contains($"error: the cluster has no campaign '{name}'", output);
        }
        finally
        {
            await silo.StopAsync();
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public void ClusterTarget_ComesFromTheGatewayOption_ThenRemaGateway_ThenTheSilosAzureSettings()
    {
        var gateway = ClusterOptions.Gateway();
        var command = new System.CommandLine.RootCommand { gateway };
        IConfiguration Env(params (string, string)[] pairs) => new ConfigurationBuilder()
            .AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Item1, p.Item2))).Build();
        const string azure = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;BlobEndpoint=http://127.0.0.1:2/devstoreaccount1;";

        Assert.Null(ClusterOptions.Resolve(command.Parse([]), gateway, Env()));
        Assert.Equal(30001, ClusterOptions.Resolve(command.Parse(["--gateway", "30001"]), gateway, Env(("REMA_GATEWAY", "30002")))!.Gateway);
        Assert.Equal(30002, ClusterOptions.Resolve(command.Parse([]), gateway, Env(("REMA_GATEWAY", "30002"), ("ReMA:Azure:ConnectionString", azure)))!.Gateway);
        ClusterTarget target = ClusterOptions.Resolve(command.Parse([]), gateway, Env(("ReMA:Azure:ConnectionString", azure), ("ReMA:Cluster:ClusterId", "prod")))!;
        Assert.Null(target.Gateway);
        Assert.Equal(("prod", "rema"), (target.ClusterId, target.ServiceId));
        Assert.Equal(azure, target.Azure!.ConnectionString);
        Assert.DoesNotContain("a2V5", target.ToString());
        var bad = Assert.Throws<ArgumentException>(() => ClusterOptions.Resolve(command.Parse([]), gateway, Env(("REMA_GATEWAY", "gw"))));
        Assert.Contains("REMA_GATEWAY='gw' is not a port number", bad.Message);
    }
}

using System.Diagnostics;
using System.Text.Json;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Policy;
using ReMA.Grains.Tests.Azure;
using Xunit.Abstractions;

namespace ReMA.Grains.Tests.Processes;

/// <summary>Silo and client processes against Azurite: rollouts on every silo, and the run survives kill -9 of a silo.</summary>
[Collection("processes")]
public class ClusterProcessTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    internal static string CampaignFile(string folder, string name, int steps, int evalInterval = 100)
    {
        string path = Path.Combine(folder, name + ".json");
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            name,
            task = new { name = "arithmetic", options = new { train_size = "40", eval_size = "8", prompts = "none" } },
            group_size = 4,
            prompts_per_step = 4,
            steps,
            limits = new { max_turns = 2, max_tokens_per_turn = 8, max_context_tokens = 1000 },
            sft = new { enabled = false },
            eval = new { sets = new[] { "test" }, interval = evalInterval, max_problems = 2 },
            model = new { preset = "nano" },
            episode_timeout_seconds = 20,
        }));
        return path;
    }

    [Fact]
    public async Task ThreeSiloProcessesAndAClientProcess_RunACampaign_WithEpisodesOnEverySilo()
    {
        await using ClusterProcesses cluster = await ClusterProcesses.StartAsync(azurite.Emulator, "learner,rollout", "rollout", "rollout");
        string name = "proc-" + Guid.NewGuid().ToString("N")[..8];
        (int code, string text) = await cluster.RunClientAsync(TimeSpan.FromMinutes(4), "train", "--file", CampaignFile(cluster.Folder, name, 3), "--plain");
        output.WriteLine(text);
        Assert.True(code == 0, $"rema train exited with {code}:\n{text}");
        Assert.Contains($"campaign {name} completed", text, StringComparison.Ordinal);

        IClusterClient client = await cluster.ClientAsync();
        string[] replicas = await client.GetGrain<IPolicyRegistryGrain>($"{name}.shared").Replicas();
        var silosWithEpisodes = new HashSet<int>();
        foreach (string replica in replicas)
        {
            PolicyInfo info = await client.GetGrain<IPolicyGrain>(replica).GetInfo();
            SiloProcess host = cluster.Silos.Single(s => s.Hosts(info.SiloAddress));
            Assert.Equal(PolicyKey.SiloOf(replica)!.ToString(), info.SiloAddress);
            if (info.GeneratedTokens > 0)
            {
                silosWithEpisodes.Add(host.Index);
            }
        }
        Assert.Equal([0, 1, 2], silosWithEpisodes.Order());
        // Each silo fetched the published checkpoints from Blob storage into the cache its settings name.
        foreach (SiloProcess silo in cluster.Silos)
        {
            string cache = Path.Combine(cluster.Folder, "cache", $"silo{silo.Index}");
            Assert.True(Directory.GetFiles(cache, "_COMPLETE", SearchOption.AllDirectories).Length > 0, $"silo {silo.Index} fetched nothing into {cache}");
        }
        // The client process's follower wrote the run's files where it ran, with CPU use per stage measured on the
        // campaign's silo (its status carries the silo process's CPU time), not on the client.
        string historyFile = Path.Combine(cluster.Folder, "runs", name, "history.json");
        Assert.True(File.Exists(historyFile));
        using (JsonDocument history = JsonDocument.Parse(File.ReadAllText(historyFile)))
        {
            JsonElement status = history.RootElement.GetProperty("Status");
            Assert.True(status.GetProperty("SiloCpuSeconds").GetDouble() > 0);
            Assert.Equal(Environment.ProcessorCount, status.GetProperty("SiloProcessors").GetInt32());
            JsonElement rl = history.RootElement.GetProperty("Phases").EnumerateArray().Single(p => p.GetProperty("Stage").GetString() == "rl");
            Assert.True(rl.GetProperty("CpuSeconds").GetDouble() > 0);
        }
        // Nothing the processes logged (console or rolling files) carries the storage key or the connection string.
        string key = azurite.Emulator.ConnectionString.Split(';').Single(p => p.StartsWith("AccountKey=", StringComparison.Ordinal))["AccountKey=".Length..];
        var logs = Directory.GetFiles(Path.Combine(cluster.Folder, "logs"), "*.log", SearchOption.AllDirectories);
        Assert.Equal(3, logs.Length);
        foreach (string text2 in logs.Select(File.ReadAllText).Concat(cluster.Silos.Select(s => s.Output)).Append(text))
        {
            Assert.DoesNotContain(key, text2, StringComparison.Ordinal);
            Assert.DoesNotContain("AccountKey=", text2, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SigtermWithStorageGone_StopsTheSiloWithinItsBound()
    {
        // An emulator of its own: this test takes it away.
        await using Azurite storage = await Azurite.StartAsync();
        await using ClusterProcesses cluster = await ClusterProcesses.StartAsync(storage, "all");
        string name = "term-" + Guid.NewGuid().ToString("N")[..8];
        (int submitted, string text) = await cluster.RunClientAsync(TimeSpan.FromMinutes(2), "train", "--file", CampaignFile(cluster.Folder, name, 50), "--detach");
        Assert.True(submitted == 0, text);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await storage.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        // ReMA:Shutdown:TimeoutSeconds defaults to 20: a graceful stop within it, or the process exits 10 s later.
        TimeSpan? took = await cluster.Silos[0].TerminateAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"SIGTERM with storage gone: exited after {took?.TotalSeconds:F1} s");
        Assert.True(took is not null, $"the silo was still running 60 s after SIGTERM:\n{cluster.Silos[0].Output}");
        Assert.True(took < TimeSpan.FromSeconds(40), $"exit took {took}");
    }

    [Fact]
    public async Task KillingARolloutSilo_MidCampaign_LosesNoStep()
    {
        await using ClusterProcesses cluster = await ClusterProcesses.StartAsync(azurite.Emulator, "learner,rollout", "rollout", "rollout");
        IClusterClient client = await cluster.ClientAsync();
        string name = "kill-" + Guid.NewGuid().ToString("N")[..8];
        Task<(int, string)> follower = cluster.RunClientAsync(TimeSpan.FromMinutes(5), "train", "--file", CampaignFile(cluster.Folder, name, 6), "--plain");
        ICampaignGrain campaign = client.GetGrain<ICampaignGrain>(name);
        CampaignStatus running = await CampaignWaits.WaitAsync(campaign, s => s.NextStep >= 2, seconds: 180);
        Assert.Equal("running", running.Status);
        SiloProcess victim = cluster.Silos.First(s => s.Role == "rollout");
        var clock = Stopwatch.StartNew();
        long stepAtKill = (await campaign.Status()).NextStep;
        victim.Kill();
        CampaignStatus next = await CampaignWaits.WaitAsync(campaign, s => s.NextStep > stepAtKill, seconds: 180);
        output.WriteLine($"recovery: the first step after killing silo {victim.Index} finished {clock.Elapsed.TotalSeconds:F1} s after the kill");

        (int code, string text) = await follower;
        output.WriteLine(text);
        Assert.True(code == 0, $"rema train exited with {code}:\n{text}");
        CampaignStatus done = await campaign.Status();
        Assert.Equal("completed", done.Status);
        Assert.Equal([0L, 1L, 2L, 3L, 4L, 5L], (await campaign.History()).Select(h => h.Step));
        Assert.Equal(6, await client.GetGrain<ILearnerGrain>($"{name}.shared").Version());
        Assert.True(next.NextStep > stepAtKill);
        // The dead silo's replica is no longer published to.
        string[] replicas = await client.GetGrain<IPolicyRegistryGrain>($"{name}.shared").Replicas();
        Assert.DoesNotContain(replicas, r => victim.Hosts(PolicyKey.SiloOf(r)!.ToString()));
    }

    [Fact]
    public async Task KillingTheSiloOfTheCampaignAndLearner_ResumesOnAnotherSilo_FromItsCheckpoint()
    {
        await using ClusterProcesses cluster = await ClusterProcesses.StartAsync(azurite.Emulator, "all", "all", "rollout");
        IClusterClient client = await cluster.ClientAsync();
        string name = "killcamp-" + Guid.NewGuid().ToString("N")[..8];
        string file = CampaignFile(cluster.Folder, name, 5, evalInterval: 2);
        (int submitted, string submitText) = await cluster.RunClientAsync(TimeSpan.FromMinutes(2), "train", "--file", file, "--detach");
        Assert.True(submitted == 0, submitText);
        ICampaignGrain campaign = client.GetGrain<ICampaignGrain>(name);
        CampaignStatus running = await CampaignWaits.WaitAsync(campaign, s => s.NextStep >= 2, seconds: 180);
        SiloProcess victim = cluster.Silos.Single(s => s.Hosts(running.Silo));
        Assert.NotEqual("rollout", victim.Role);
        var clock = Stopwatch.StartNew();
        victim.Kill();
        // Nobody calls the campaign: its reminder brings it back on a surviving silo, where it continues.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (DateTime.UtcNow < deadline && !File.Exists(Path.Combine(cluster.Folder, "runs", name, "checkpoints", $"{name}.shared", "step-00000005", "config.json")))
        {
            await Task.Delay(500);
        }
        output.WriteLine($"recovery through the reminder: version 5 saved {clock.Elapsed.TotalSeconds:F1} s after the kill");
        CampaignStatus done = await CampaignWaits.WaitAsync(campaign, s => s.Status == "completed", seconds: 120);
        Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}, warning {done.Warning}");
        Assert.False(victim.Hosts(done.Silo));
        Assert.True(done.Activations >= 2);
        Assert.Equal([0L, 1L, 2L, 3L, 4L], (await campaign.History()).Select(h => h.Step));
        Assert.Equal(5, await client.GetGrain<ILearnerGrain>($"{name}.shared").Version());
        // The configuration read back from storage after the failover is the one submitted, member by member (the JSON
        // storage serialiser used to append the default evaluation sets to the configured ones and turn sft.enabled
        // false into true), and every evaluation ran exactly once: at the start, every 2 steps and at the end.
        StateSerializerTests.AssertDeepEqual(ReMA.Abstractions.Campaigns.CampaignFile.Load(file), await campaign.Config(), "config");
        Assert.Equal(["0:test", "2:test", "4:test", "5:test"], done.Evaluations.Select(e => $"{e.AfterStep}:{e.Set}"));
    }
}

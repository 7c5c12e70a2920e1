using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using ReMA.Abstractions.Campaigns;
using ReMA.Grains.Tests.Azure;
using ReMA.Grains.Tests.Processes;

namespace ReMA.Bench;

public sealed record ClusterRow(
    [property: JsonPropertyName("silos")] int Silos,
    [property: JsonPropertyName("torch_threads_per_silo")] int TorchThreads,
    [property: JsonPropertyName("steps_measured")] int Steps,
    [property: JsonPropertyName("episodes_per_s")] double EpisodesPerSecond,
    [property: JsonPropertyName("rollout_tokens_per_s")] double TokensPerSecond,
    [property: JsonPropertyName("step_seconds")] double StepSeconds,
    [property: JsonPropertyName("update_seconds")] double UpdateSeconds,
    [property: JsonPropertyName("checkpoint_publish_seconds")] double CheckpointPublishSeconds,
    [property: JsonPropertyName("recovery_seconds")] double? RecoverySeconds);

/// <summary>
/// Real silo processes on this machine against Azurite (in memory): a ReMA multi-turn campaign (nano model, 16 prompts
/// x 8 episodes per step after a 200-step SFT warm start) on 1 silo with 2 torch threads and on 3 silos with 1 thread each (about the same
/// cores). Rollout episodes/s and tokens/s from the campaign history (first step left out: it loads the replicas);
/// checkpoint write + upload + publish = the learner call minus its update; recovery = from kill -9 of a rollout
/// silo to the end of the next step.
/// </summary>
public static class ClusterBenchmark
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static CampaignConfig Campaign(string name, int steps) => new()
    {
        Name = name,
        Task = new TaskSpec { Options = new() { ["train_size"] = "500", ["eval_size"] = "8", ["prompts"] = "none" } },
        GroupSize = 8,
        PromptsPerStep = 16,
        Steps = steps,
        Limits = new LimitsSpec { MaxTurns = 4, MaxTokensPerTurn = 16, MaxContextTokens = 400 },
        // A short warm start, so that episodes have the protocol's several rounds (an untrained model ends every
        // episode in its first turn and the update has nothing to learn).
        Sft = new SftSpec { Enabled = true, Demonstrations = 1000, Steps = 200, BatchRows = 64, LearningRate = 1e-3 },
        Eval = new EvalSpec { Sets = ["test"], Interval = 10_000, MaxProblems = 1 },
        EpisodeTimeoutSeconds = 60,
    };

    private static async Task<CampaignStatus> WaitAsync(ICampaignGrain campaign, Func<CampaignStatus, bool> until, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                CampaignStatus s = await campaign.Status();
                if (until(s) || s.Status is "failed" || DateTime.UtcNow > deadline)
                {
                    return s;
                }
            }
            catch (Exception e) when (e is OrleansException or TimeoutException && DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(100);
        }
    }

    public static async Task<int> RunAsync(string[] args)
    {
        bool json = args.Contains("--json");
        int steps = int.Parse(BenchArgs.Value(args, "--steps") ?? "6", System.Globalization.CultureInfo.InvariantCulture);
        string output = BenchArgs.Value(args, "--out") ?? Path.Combine("bench", "results", "cluster.json");
        await using Azurite storage = await Azurite.StartAsync();
        var rows = new List<ClusterRow>();
        foreach ((int silos, int threads, string[] roles) in new[] { (1, 2, new[] { "all" }), (3, 1, new[] { "learner,rollout", "rollout", "rollout" }) })
        {
            await using ClusterProcesses cluster = await ClusterProcesses.StartAsync(storage, threads, roles);
            IClusterClient client = await cluster.ClientAsync();
            string name = $"bench{silos}-" + Guid.NewGuid().ToString("N")[..6];
            ICampaignGrain campaign = client.GetGrain<ICampaignGrain>(name);
            await campaign.Start(Campaign(name, steps));
            CampaignStatus done = await WaitAsync(campaign, s => s.Status == "completed", TimeSpan.FromMinutes(10));
            if (done.Status != "completed")
            {
                Console.Error.WriteLine($"campaign {name} ended {done.Status}: {done.Error}");
                return 1;
            }
            var measured = (await campaign.History()).Skip(1).ToList();
            double rollout = measured.Sum(h => h.RolloutSeconds);
            double publish = measured.Average(h => h.UpdateSeconds - h.Learners.Values.Sum(l => l.Seconds));

            double? recovery = null;
            if (silos > 1)
            {
                string again = name + "-kill";
                ICampaignGrain second = client.GetGrain<ICampaignGrain>(again);
                await second.Start(Campaign(again, 6) with { Sft = new SftSpec { Enabled = false } });
                CampaignStatus before = await WaitAsync(second, s => s.NextStep >= 3, TimeSpan.FromMinutes(5));
                var clock = Stopwatch.StartNew();
                cluster.Silos.First(s => s.Role == "rollout").Kill();
                await WaitAsync(second, s => s.NextStep > before.NextStep, TimeSpan.FromMinutes(5));
                recovery = clock.Elapsed.TotalSeconds;
            }
            var row = new ClusterRow(silos, threads, measured.Count, measured.Sum(h => h.Episodes) / rollout,
                measured.Average(h => h.RolloutTokensPerSecond), measured.Average(h => h.RolloutSeconds + h.UpdateSeconds),
                measured.Average(h => h.UpdateSeconds), publish, recovery);
            rows.Add(row);
            if (!json)
            {
                Console.WriteLine($"{silos} silo(s) x {threads} thread(s): {row.EpisodesPerSecond:F1} episodes/s, {row.TokensPerSecond:F0} tok/s, step {row.StepSeconds:F2} s (update {row.UpdateSeconds:F2} s, checkpoint+publish {row.CheckpointPublishSeconds:F2} s)"
                    + (recovery is double r ? $", recovery after kill -9 {r:F1} s" : ""));
            }
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(rows, Indented));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(rows, Indented));
        }
        return 0;
    }
}

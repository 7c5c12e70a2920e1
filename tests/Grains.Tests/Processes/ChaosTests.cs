using System.Diagnostics;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;
using ReMA.Grains.Tests.Azure;
using Xunit.Abstractions;

namespace ReMA.Grains.Tests.Processes;

/// <summary>
/// Chaos (issue 22): a campaign on three silo processes survives repeated kill -9s of random silos, each restarted after
/// a pause, with every step applied exactly once, its configuration unchanged and exactly the expected evaluations.
/// At least two kills hit the campaign's own silo; after the first of those nothing calls the campaign, so its reminder
/// must bring it back, while after the others the test's polling does. The victims and the moments of the kills come
/// from a seeded Random (REMA_CHAOS_SEED overrides the seed; the log names it and every choice); REMA_CHAOS_LOGS names
/// a folder to keep the silo processes' output in.
/// </summary>
[Collection("processes")]
public class ChaosTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    // Enough steps to outlast five kills and restarts (about 8 s each) at 3-4 steps per second: 40 steps finished before the
    // fourth kill once a small engine ran on one thread.
    private const int Steps = 200, EvalInterval = 25, Kills = 5, HostKills = 2;
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(3);
    // Each status call is given up after this long and asked again (see CampaignWaits): a call that reached the silo as it
    // died would otherwise hold the poll, and the campaign that nobody calls, for the client's 30 s response timeout.
    private const int CallSeconds = 5;

    [Fact]
    public async Task ACampaign_SurvivesKillsOfRandomSilosRestartedAfterAPause_WithEveryStepOnce()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("REMA_CHAOS_SEED"), out int s) ? s : 22;
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        void Log(string line) => output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1} s] {line}");

        // Two silos that can host the campaign and its learner (one of them is always up: a killed silo is back before
        // the next kill) and one for rollouts only.
        await using ClusterProcesses cluster = await ClusterProcesses.StartAsync(azurite.Emulator, "all", "all", "rollout");
        Log($"3 silos healthy; seed {seed}");
        IClusterClient client = await cluster.ClientAsync();
        string name = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        string file = ClusterProcessTests.CampaignFile(cluster.Folder, name, Steps, EvalInterval);
        (int submitted, string submitText) = await cluster.RunClientAsync(TimeSpan.FromMinutes(2), "train", "--file", file, "--detach");
        Assert.True(submitted == 0, submitText);
        Log($"campaign {name} submitted: {Steps} steps, evaluation every {EvalInterval}");
        ICampaignGrain campaign = client.GetGrain<ICampaignGrain>(name);
        ILearnerGrain learner = client.GetGrain<ILearnerGrain>($"{name}.shared");
        CampaignConfig submittedConfig = CampaignFile.Load(file);

        bool passed = false;
        // Restarts run beside the campaign: the next kill waits for a step after this one, not for the restart. A silo
        // still starting is waited for before it is killed again, and before the other silo that can host the campaign
        // is killed, so one of those two is always up.
        var restarts = new Dictionary<int, Task<SiloProcess>>();
        async Task<SiloProcess> RestartAsync(SiloProcess victim, int kill, Stopwatch sinceKill)
        {
            SiloProcess back = await cluster.RestartAsync(victim, TimeSpan.FromSeconds(120));
            Log($"kill {kill}: silo {victim.Index} restarted and healthy {sinceKill.Elapsed.TotalSeconds:F1} s after the kill");
            return back;
        }
        try
        {
            int hostKills = 0;
            bool quietKill = false;
            long progressFrom = 1;   // the first kill after step 0; each later one after a step since the previous kill
            for (int k = 0; k < Kills; k++)
            {
                await CampaignWaits.WaitAsync(campaign, st => st.NextStep >= progressFrom, seconds: 300, callSeconds: CallSeconds);
                // Some time into the step, so that kills land in its rollout, its update or its write, not only at its start.
                await Task.Delay(random.Next(0, 1500));
                // Random victims, except that the last kills go to the campaign's silo when fewer than HostKills hit it so far.
                bool forced = HostKills - hostKills >= Kills - k;
                int pick = random.Next(cluster.Silos.Count);
                CampaignStatus before;
                SiloProcess host, victim;
                while (true)
                {
                    before = await CampaignWaits.WaitAsync(campaign, st => true, callSeconds: CallSeconds);
                    Assert.True(before.Status == "running" && before.NextStep < Steps,
                        $"kill {k + 1}: the campaign is {before.Status} at step {before.NextStep}/{Steps} (error {before.Error}, warning {before.Warning}); "
                        + "it must still be running for every kill");
                    host = cluster.Silos.Single(p => p.Hosts(before.Silo));
                    victim = forced ? host : cluster.Silos[pick];
                    SiloProcess? starting = cluster.Silos.FirstOrDefault(p => restarts.ContainsKey(p.Index)
                        && (p == victim || (victim.Role != "rollout" && p.Role != "rollout")));
                    if (starting is null)
                    {
                        break;
                    }
                    Task<SiloProcess> restart = restarts[starting.Index];
                    restarts.Remove(starting.Index);
                    if (!restart.IsCompleted)
                    {
                        Log($"kill {k + 1}: waiting for silo {starting.Index} to be back");
                    }
                    await restart;
                }
                hostKills += victim == host ? 1 : 0;
                var sinceKill = Stopwatch.StartNew();
                victim.Kill();
                Log($"kill {k + 1}: silo {victim.Index} ({victim.Role}{(victim == host ? ", the campaign's" : "")}{(forced ? ", forced" : ", random")}) "
                    + $"at step {before.NextStep} ({(Evaluating(before, submittedConfig) ? "evaluating" : "training")})");
                // The first kill of the campaign's silo is left to the campaign's reminder: nothing calls the campaign until
                // its learner has a version from a step after the kill (the learner may have applied the step under way).
                bool quiet = victim == host && !quietKill;
                quietKill |= quiet;
                Task<TimeSpan> next = quiet
                    ? VersionAsync(learner, Math.Min(before.NextStep + 2, Steps), sinceKill)
                    : NextStepAsync(campaign, before.NextStep, sinceKill);
                await Task.Delay(Pause);
                restarts[victim.Index] = RestartAsync(victim, k + 1, sinceKill);
                TimeSpan recovered = await next;
                CampaignStatus after = await CampaignWaits.WaitAsync(campaign, st => true, callSeconds: CallSeconds);
                Log($"kill {k + 1}: next step {recovered.TotalSeconds:F1} s after the kill{(quiet ? " (its reminder brought the campaign back)" : "")}; "
                    + $"the campaign is at step {after.NextStep} on {after.Silo}");
                progressFrom = before.NextStep + 1;
            }
            await Task.WhenAll(restarts.Values);
            Assert.True(hostKills >= HostKills, $"{hostKills} kills hit the campaign's silo");

            CampaignStatus done = await CampaignWaits.WaitAsync(campaign, st => st.Status == "completed", seconds: 300, callSeconds: CallSeconds);
            Log($"campaign {done.Status} after {done.Activations} activations; {hostKills} of {Kills} kills hit its silo");
            Assert.True(done.Status == "completed", $"status {done.Status} at step {done.NextStep}, error {done.Error}, warning {done.Warning}");

            // Every step exactly once: in the history, and in the learner (one version per step, the last step last).
            StepRecord[] history = await Retry(campaign.History);
            Assert.Equal(Enumerable.Range(0, Steps).Select(i => (long)i), history.Select(h => h.Step));
            Assert.Equal(Steps, await Retry(learner.Version));
            Assert.Equal(Steps - 1, await Retry(learner.LastStep));
            // The configuration read back from storage is the one submitted, member by member.
            StateSerializerTests.AssertDeepEqual(submittedConfig, await Retry(campaign.Config), "config");
            // Each evaluation once: at the start, every interval and at the end, for each set.
            var expected = Enumerable.Range(0, Steps + 1)
                .Where(step => step == Steps || (step == 0 ? submittedConfig.Eval.AtStart : step % EvalInterval == 0))
                .SelectMany(step => submittedConfig.Eval.Sets.Select(set => $"{step}:{set}"));
            Assert.Equal(expected, done.Evaluations.Select(e => $"{e.AfterStep}:{e.Set}"));
            Assert.True(done.Activations >= 2, $"{done.Activations} activations");
            // The stored episodes of a step: one record per slot, however often the step or an episode ran.
            foreach (StepRecord step in history)
            {
                EpisodeSummary[] episodes = await Retry(() => campaign.Episodes(step.Step));
                Assert.True(episodes.Length > 0 && episodes.Length <= submittedConfig.PromptsPerStep * submittedConfig.GroupSize,
                    $"step {step.Step}: {episodes.Length} stored episodes");
                Assert.Equal(episodes.Length, episodes.Select(e => e.EpisodeId).Distinct().Count());
                Assert.All(episodes, e => Assert.Equal(step.Step, e.Step));
            }
            Log($"checked: {Steps} steps once, learner version {Steps}, configuration unchanged, evaluations {string.Join(' ', expected)}");
            passed = true;
        }
        finally
        {
            // Every silo process's console output, passed or not, where REMA_CHAOS_LOGS asks for it.
            if (Environment.GetEnvironmentVariable("REMA_CHAOS_LOGS") is { Length: > 0 } keep)
            {
                Directory.CreateDirectory(keep);
                foreach ((SiloProcess silo, int i) in cluster.Replaced.Concat(cluster.Silos).Select((p, i) => (p, i)))
                {
                    File.WriteAllText(Path.Combine(keep, $"{name}-{i:D2}-silo{silo.Index}-port{silo.SiloPort}.log"), silo.Output);
                }
            }
            if (!passed)
            {
                // What the silos said about the campaign, its learner and its episodes (the processes' folder goes with the cluster).
                foreach (SiloProcess silo in cluster.Replaced.Concat(cluster.Silos))
                {
                    var lines = silo.Output.Split('\n').Where(l => l.Contains(name, StringComparison.Ordinal) && !l.Contains(" INF]", StringComparison.Ordinal)
                        || l.Contains(" ERR]", StringComparison.Ordinal) || l.Contains(" FTL]", StringComparison.Ordinal)).TakeLast(40);
                    output.WriteLine($"--- silo {silo.Index} (port {silo.SiloPort}, {(silo.Exited ? "exited" : "running")}):");
                    output.WriteLine(string.Join('\n', lines));
                }
            }
        }
    }

    /// <summary>Whether the unit under way is an evaluation (one is due before the next step and has not been recorded).</summary>
    private static bool Evaluating(CampaignStatus status, CampaignConfig config) =>
        (status.NextStep == 0 ? config.Eval.AtStart : status.NextStep % config.Eval.Interval == 0)
        && !status.Evaluations.Any(e => e.AfterStep == status.NextStep);

    /// <summary>How long after <paramref name="sinceKill"/> started the campaign finished a step after <paramref name="step"/>.</summary>
    private static async Task<TimeSpan> NextStepAsync(ICampaignGrain campaign, long step, Stopwatch sinceKill)
    {
        CampaignStatus next = await CampaignWaits.WaitAsync(campaign, st => st.NextStep > step, seconds: 300, callSeconds: CallSeconds);
        Assert.True(next.NextStep > step, $"no step after step {step} within 300 s: {next.Status}, error {next.Error}, warning {next.Warning}");
        return sinceKill.Elapsed;
    }

    /// <summary>How long after <paramref name="sinceKill"/> started the learner had <paramref name="version"/>, asking only the learner.</summary>
    private static async Task<TimeSpan> VersionAsync(ILearnerGrain learner, long version, Stopwatch sinceKill)
    {
        var deadline = DateTime.UtcNow.AddSeconds(300);
        long seen = -1;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                seen = await learner.Version().WaitAsync(TimeSpan.FromSeconds(CallSeconds));
                if (seen >= version)
                {
                    return sinceKill.Elapsed;
                }
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
            }
            await Task.Delay(500);
        }
        Assert.Fail($"the learner is at version {seen}, not {version}, 300 s after the kill: the campaign's reminder did not bring it back");
        return TimeSpan.Zero;
    }

    /// <summary>A call through the test's client, asked again while the silos it reaches come and go.</summary>
    private static async Task<T> Retry<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (e is OrleansException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }
}

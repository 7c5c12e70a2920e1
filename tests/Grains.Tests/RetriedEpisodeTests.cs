using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Learning;
using ReMA.Grains.Episodes;
using ReMA.Grains.Storage;
using ReMA.Silo;

namespace ReMA.Grains.Tests;

/// <summary>Faults injected into a test silo's grain calls, each once, keyed by grain (and step) so that tests do not share them.</summary>
public sealed class InjectedFaults : IIncomingGrainCallFilter
{
    /// <summary>Episode grains whose first Run finishes the episode, then reports a timeout: a late first attempt the campaign gave up on.</summary>
    public static readonly ConcurrentDictionary<string, bool> LateEpisodes = new();

    /// <summary>(learner, step): the first Step call fails before the learner sees it.</summary>
    public static readonly ConcurrentDictionary<(string Learner, long Step), bool> LearnerFailsBefore = new();

    /// <summary>(learner, step): the first Step call is applied, then fails on its way back (the campaign repeats the step).</summary>
    public static readonly ConcurrentDictionary<(string Learner, long Step), bool> LearnerFailsAfter = new();

    /// <summary>(learner, step): the rows of the Step call that applied the step (the first one that reached the learner).</summary>
    public static readonly ConcurrentDictionary<(string Learner, long Step), TrajectoryRecord[]> Trained = new();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        string key = context.TargetId.Key.ToString()!;
        if (context.Grain is IEpisodeGrain && context.InterfaceMethod.Name == nameof(IEpisodeGrain.Run) && LateEpisodes.TryRemove(key, out _))
        {
            await context.Invoke();
            throw new TimeoutException($"injected: episode {key} finished after its campaign gave up on it");
        }
        if (context.Grain is ILearnerGrain && context.InterfaceMethod.Name == nameof(ILearnerGrain.Step))
        {
            var at = (key, (long)context.Request.GetArgument(0)!);
            if (LearnerFailsBefore.TryRemove(at, out _))
            {
                throw new TimeoutException($"injected: learner {key} step {at.Item2} unreachable");
            }
            Trained.TryAdd(at, (TrajectoryRecord[])context.Request.GetArgument(1)!);
            await context.Invoke();
            if (LearnerFailsAfter.TryRemove(at, out _))
            {
                throw new TimeoutException($"injected: learner {key} applied step {at.Item2}, the answer was lost");
            }
            return;
        }
        await context.Invoke();
    }
}

public class RetriedEpisodeTests
{
    [Fact]
    public async Task RetriedEpisodes_AndRepeatedSteps_LeaveExactlyPromptsTimesGroupEpisodesPerStep_AsTrained()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(PolicyClusterFixture.Settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddReMA(configuration).AddReMAMemoryStorage().UseInMemoryReminderService()
            .AddIncomingGrainCallFilter<InjectedFaults>());
        InProcessTestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            string name = "camp-retry-" + Guid.NewGuid().ToString("N")[..8];
            string learner = $"{name}.shared";
            // Step 0: one episode's first attempt comes back late (retried), then the learner call fails before the
            // update, so the step is sampled again. Step 1: another late attempt, then the learner applies the step but
            // its answer is lost, so the campaign repeats a step that was trained on already.
            InjectedFaults.LateEpisodes[EpisodeIds.Training(name, 0, 0, 0)] = true;
            InjectedFaults.LearnerFailsBefore[(learner, 0)] = true;
            InjectedFaults.LateEpisodes[EpisodeIds.Training(name, 1, 1, 1)] = true;
            InjectedFaults.LearnerFailsAfter[(learner, 1)] = true;

            ICampaignGrain campaign = cluster.Client.GetGrain<ICampaignGrain>(name);
            await campaign.Start(TestCampaigns.Small(name, steps: 2, group: 2, prompts: 2));
            CampaignStatus done = await CampaignWaits.WaitAsync(campaign, s => s.Status == "completed", seconds: 180);
            Assert.True(done.Status == "completed", $"status {done.Status}, error {done.Error}");
            Assert.DoesNotContain(InjectedFaults.LateEpisodes.Keys, k => k.StartsWith(name, StringComparison.Ordinal));   // every fault happened
            Assert.DoesNotContain(InjectedFaults.LearnerFailsBefore.Keys, k => k.Learner == learner);
            Assert.DoesNotContain(InjectedFaults.LearnerFailsAfter.Keys, k => k.Learner == learner);
            Assert.Equal(2, await cluster.Client.GetGrain<ILearnerGrain>(learner).Version());   // each step applied once
            StepRecord[] history = await campaign.History();
            Assert.Equal([0L, 1L], history.Select(h => h.Step));
            Assert.All(history, h => Assert.Equal((4, 0), (h.Episodes, h.FailedEpisodes)));

            var store = new LocalTrajectoryStore("runs");
            foreach (long step in new long[] { 0, 1 })
            {
                var stored = new List<TrajectoryDocument>();
                await foreach (TrajectoryDocument e in store.ReadAsync(name, step))
                {
                    if (!e.Evaluation)
                    {
                        stored.Add(e);
                    }
                }
                // Exactly prompts x group episodes, one per slot, under the slot's id (no "-retry" copy beside it).
                string[] slots = [.. from p in Enumerable.Range(0, 2) from g in Enumerable.Range(0, 2) select EpisodeIds.Training(name, step, p, g)];
                Assert.Equal(slots.Order(StringComparer.Ordinal), stored.Select(e => e.EpisodeId).Order(StringComparer.Ordinal));
                Assert.All(stored, e => Assert.All(e.Rows, r => Assert.Equal(e.EpisodeId, r.EpisodeId)));
                EpisodePage counted = await new EpisodeQuery { Step = step, Evaluation = false }.RunAsync(store.ReadAsync(name, step));
                Assert.Equal(4, counted.Total);
                // And they are what the learner trained on: the rows of the call that applied the step, token for token.
                static string[] Keyed(IEnumerable<TrajectoryRecord> rows) =>
                    [.. rows.Select(r => $"{r.EpisodeId}/{r.Role}/v{r.PolicyVersion}/{string.Join(',', r.TokenIds)}").Order(StringComparer.Ordinal)];
                Assert.Equal(Keyed(InjectedFaults.Trained[(learner, step)]), Keyed(stored.SelectMany(e => e.Rows)));
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}

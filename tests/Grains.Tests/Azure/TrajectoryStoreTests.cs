using ReMA.Abstractions.Episodes;
using ReMA.Grains.Storage;
using ReMA.Silo.Storage;

namespace ReMA.Grains.Tests.Azure;

/// <summary>Both trajectory stores: round trip (token ids, NaN log-probs), replacement, order, step filter, stored steps, bad files named.</summary>
public class TrajectoryStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static TrajectoryDocument Episode(string campaign, long step, string id, bool evaluation = false, bool correct = true) => new(
        TrajectoryDocument.CurrentFormat, campaign, step, evaluation, id, $"{campaign}-s{step}-p0", "arith-1", "Compute 2+3.", "5", correct ? "5" : "6",
        correct, correct ? 1 : 0, new Dictionary<string, double> { ["meta"] = correct ? 1 : 0 }, "finished",
        [new TranscriptRecord(0, "meta", "Next: 2+3", 10, "eos", step, -0.01), new TranscriptRecord(0, "reasoner", "2+3=5", 6, "eos", step, -0.2)],
        [new TrajectoryRecord(id, "reasoner", $"{campaign}-s{step}-p0", step, [1, 2, 3, 4], [false, false, true, true], [-1, -1, 0, 0], [float.NaN, float.NaN, -0.5f, float.NaN], [correct ? 1 : 0])],
        0.25);

    private async Task RoundTrip(ITrajectoryStore store)
    {
        string campaign = "traj-" + Guid.NewGuid().ToString("N")[..8];
        await store.WriteAsync(Episode(campaign, 1, "b"));
        await store.WriteAsync(Episode(campaign, 0, "a"));
        await store.WriteAsync(Episode(campaign, 1, "c", correct: false));
        await store.WriteAsync(Episode(campaign, 1, "c", correct: true));          // a repeated step replaces the episode
        await store.WriteAsync(Episode(campaign, 1, "e", evaluation: true));
        await store.WriteAsync(Episode("other-" + campaign, 1, "x"));

        var all = new List<TrajectoryDocument>();
        await foreach (TrajectoryDocument d in store.ReadAsync(campaign))
        {
            all.Add(d);
        }
        Assert.Equal(["e", "a", "b", "c"], all.Select(d => d.EpisodeId));      // eval-..., then step-00000000, step-00000001
        TrajectoryDocument c = all.Single(d => d.EpisodeId == "c");
        Assert.True(c.Correct);
        Assert.Equal([1, 2, 3, 4], c.Rows[0].TokenIds);
        Assert.True(float.IsNaN(c.Rows[0].OldLogProbs[0]));
        Assert.Equal(-0.5f, c.Rows[0].OldLogProbs[2]);
        Assert.Equal("2+3=5", c.Turns[1].Text);
        var stepOne = new List<string>();
        await foreach (TrajectoryDocument d in store.ReadAsync(campaign, step: 1))
        {
            stepOne.Add(d.EpisodeId);
        }
        Assert.Equal(["e", "b", "c"], stepOne);
        // The steps with training episodes, from the names alone (an evaluation-only step is not one).
        await store.WriteAsync(Episode(campaign, 9, "g", evaluation: true));
        Assert.Equal(new long[] { 0, 1 }, await store.StepsAsync(campaign));
        Assert.Empty(await store.StepsAsync("none-" + campaign));
    }

    [Fact]
    public Task LocalFolder_RoundTrips() => RoundTrip(new LocalTrajectoryStore(Directory.CreateTempSubdirectory("rema-traj").FullName));

    [Fact]
    public Task AzureBlob_RoundTrips() => RoundTrip(new BlobTrajectoryStore(azurite.Emulator.Settings.Blobs()));

    [Fact]
    public async Task ACorruptFile_IsNamedInTheError()
    {
        string root = Directory.CreateTempSubdirectory("rema-traj").FullName;
        var store = new LocalTrajectoryStore(root);
        await store.WriteAsync(Episode("bad", 0, "a"));
        string file = Directory.GetFiles(Path.Combine(root, "bad", "trajectories"), "*.json", SearchOption.AllDirectories).Single();
        await File.WriteAllTextAsync(file, "{ not json");
        var e = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (TrajectoryDocument _ in store.ReadAsync("bad"))
            {
            }
        });
        Assert.Contains(file, e.Message);
        Assert.Contains("not a trajectory document", e.Message);
    }
}

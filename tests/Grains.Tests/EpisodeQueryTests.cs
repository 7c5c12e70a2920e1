using ReMA.Abstractions.Episodes;
using ReMA.Grains.Storage;

namespace ReMA.Grains.Tests;

public class EpisodeQueryTests
{
    /// <summary>A real folder store that counts the episodes it reads.</summary>
    private sealed class CountingStore(string root) : ITrajectoryStore
    {
        private readonly LocalTrajectoryStore _inner = new(root);
        public int Reads;
        public string Describe => _inner.Describe;
        public Task WriteAsync(TrajectoryDocument episode, CancellationToken cancellation = default) => _inner.WriteAsync(episode, cancellation);
        public async IAsyncEnumerable<TrajectoryDocument> ReadAsync(string campaign, long? step = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
        {
            await foreach (TrajectoryDocument e in _inner.ReadAsync(campaign, step, cancellation))
            {
                Reads++;
                yield return e;
            }
        }
        public Task<long[]> StepsAsync(string campaign, CancellationToken cancellation = default) => _inner.StepsAsync(campaign, cancellation);
        public Task<IReadOnlyList<StoredEpisodeName>> NamesAsync(string campaign, long? step = null, CancellationToken cancellation = default) => _inner.NamesAsync(campaign, step, cancellation);
        public Task<TrajectoryDocument> ReadOneAsync(string campaign, StoredEpisodeName name, CancellationToken cancellation = default)
        {
            Reads++;
            return _inner.ReadOneAsync(campaign, name, cancellation);
        }
    }

    private static TrajectoryDocument Episode(string campaign, long step, bool evaluation, string id, double reward) => new(
        TrajectoryDocument.CurrentFormat, campaign, step, evaluation, id, id[..id.LastIndexOf('-')], "p", "1+1", "2", "2", reward > 0.5, reward,
        new Dictionary<string, double> { ["outcome"] = reward }, "finished", [], [], 0.1);

    [Fact]
    public async Task UnfilteredQueries_PageInStorage_ReadingOnlyThePage_AndAgreeWithTheFullRead()
    {
        var store = new CountingStore(Directory.CreateTempSubdirectory("rema-query").FullName);
        const string campaign = "q";
        for (int step = 0; step < 3; step++)
        {
            for (int p = 0; p < 12; p++)
            {
                await store.WriteAsync(Episode(campaign, step, false, $"q-s{step}-p{p}-e0", (p % 3) / 2.0));
            }
            await store.WriteAsync(Episode(campaign, step, true, $"test-{step + 8}", 1));
        }
        var queries = new[]
        {
            new EpisodeQuery(),
            new EpisodeQuery { Sort = "id", PageSize = 5, Page = 2 },
            new EpisodeQuery { Sort = "id", Descending = true, PageSize = 7 },
            new EpisodeQuery { Step = 1, PageSize = 4, Page = 3 },
            new EpisodeQuery { Evaluation = true, Sort = "id" },
            new EpisodeQuery { Evaluation = false, Sort = "step", Descending = true, PageSize = 10 },
        };
        foreach (EpisodeQuery query in queries)
        {
            Assert.False(query.ReadsContent);
            store.Reads = 0;
            EpisodePage paged = await query.RunAsync(store, campaign);
            Assert.Equal(paged.Episodes.Count, store.Reads);          // only the page's episodes are read
            EpisodePage full = await query.RunAsync(store.ReadAsync(campaign, query.Step));
            Assert.Equal((full.Total, full.Pages), (paged.Total, paged.Pages));
            Assert.Equal(full.Episodes.Select(e => e.EpisodeId), paged.Episodes.Select(e => e.EpisodeId));
        }
        // Ids sort naturally: p2 before p10, test-9 before test-10.
        EpisodePage step0 = await new EpisodeQuery { Step = 0, Evaluation = false, Sort = "id", PageSize = 50 }.RunAsync(store, campaign);
        Assert.Equal(Enumerable.Range(0, 12).Select(p => $"q-s0-p{p}-e0"), step0.Episodes.Select(e => e.EpisodeId));
        EpisodePage evals = await new EpisodeQuery { Evaluation = true, Sort = "id" }.RunAsync(store, campaign);
        Assert.Equal(["test-8", "test-9", "test-10"], evals.Episodes.Select(e => e.EpisodeId));
        // A content filter reads every episode, with the same answer as before.
        var correct = new EpisodeQuery { Correct = true, PageSize = 100 };
        Assert.True(correct.ReadsContent);
        EpisodePage right = await correct.RunAsync(store, campaign);
        Assert.Equal(3 * 4 + 3, right.Total);
    }

    [Fact]
    public void NaturalOrder_ComparesDigitRunsAsNumbers()
    {
        string[] ids = ["test-10", "test-2", "a", "test-02", "p9", "p10", "test-1", "b1c10", "b1c9"];
        Assert.Equal(["a", "b1c9", "b1c10", "p9", "p10", "test-1", "test-2", "test-02", "test-10"], ids.Order(NaturalOrder.Instance));
    }
}

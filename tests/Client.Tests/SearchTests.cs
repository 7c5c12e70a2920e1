using ReMA.Abstractions.Episodes;
using ReMA.Grains.Storage;

namespace ReMA.Client.Tests;

public class SearchTests
{
    private static TrajectoryDocument Episode(string id, long step, double reward, int rounds, string finish = "finished", bool evaluation = false, string question = "Compute 2+3.") => new(
        TrajectoryDocument.CurrentFormat, "c", step, evaluation, id, "g", "p", question, "5", null, reward > 0, reward, [], finish,
        [.. Enumerable.Range(0, rounds).SelectMany(r => new[] { new TranscriptRecord(r, "meta", r == 1 ? "Next: 9*9" : "Next: 2+3", 8, "eos", step, -0.1), new TranscriptRecord(r, "reasoner", "2+3=5", 6, "eos", step, -0.2) })],
        [], 0.1);

    private static async IAsyncEnumerable<TrajectoryDocument> Stream(params TrajectoryDocument[] episodes)
    {
        foreach (TrajectoryDocument e in episodes)
        {
            await Task.Yield();
            yield return e;
        }
    }

    private static readonly TrajectoryDocument[] Sample =
    [
        Episode("a", 0, 1, 3), Episode("b", 0, 0, 8, "max_turns"), Episode("c", 1, 1, 2), Episode("d", 1, 0, 1, "truncated"),
        Episode("e", 2, 1, 4, question: "Compute 7*8."), Episode("f", 2, 0, 2, evaluation: true),
    ];

    [Fact]
    public async Task Filters_Combine()
    {
        EpisodePage wrong = await new EpisodeQuery { Correct = false, Evaluation = false }.RunAsync(Stream(Sample));
        Assert.Equal(["b", "d"], wrong.Episodes.Select(e => e.EpisodeId));
        EpisodePage longOnes = await new EpisodeQuery { MinTurns = 3, MaxTurns = 4 }.RunAsync(Stream(Sample));
        Assert.Equal(["a", "e"], longOnes.Episodes.Select(e => e.EpisodeId));
        EpisodePage byFinish = await new EpisodeQuery { FinishReason = "MAX_TURNS" }.RunAsync(Stream(Sample));
        Assert.Equal(["b"], byFinish.Episodes.Select(e => e.EpisodeId));
        EpisodePage byText = await new EpisodeQuery { Contains = "7*8" }.RunAsync(Stream(Sample));
        Assert.Equal(["e"], byText.Episodes.Select(e => e.EpisodeId));
        EpisodePage inTurns = await new EpisodeQuery { Contains = "9*9" }.RunAsync(Stream(Sample));   // said in round 1 only
        Assert.Equal(["a", "b", "c", "e", "f"], inTurns.Episodes.Select(e => e.EpisodeId).Order());   // every episode with a second round
        EpisodePage rewarded = await new EpisodeQuery { MinReward = 0.5, Step = 1 }.RunAsync(Stream(Sample));
        Assert.Equal(["c"], rewarded.Episodes.Select(e => e.EpisodeId));
    }

    [Fact]
    public async Task SortAndPages()
    {
        EpisodePage first = await new EpisodeQuery { Sort = "turns", Descending = true, PageSize = 4 }.RunAsync(Stream(Sample));
        Assert.Equal((6, 1, 2), (first.Total, first.Page, first.Pages));
        Assert.Equal(["b", "e", "a", "c"], first.Episodes.Select(e => e.EpisodeId));   // 8, 4, 3, then 2 rounds by step
        EpisodePage second = await new EpisodeQuery { Sort = "turns", Descending = true, PageSize = 4, Page = 2 }.RunAsync(Stream(Sample));
        Assert.Equal(["f", "d"], second.Episodes.Select(e => e.EpisodeId));
        EpisodePage beyond = await new EpisodeQuery { Page = 9 }.RunAsync(Stream(Sample));
        Assert.Empty(beyond.Episodes);
        Assert.Equal(6, beyond.Total);
        EpisodePage byReward = await new EpisodeQuery { Sort = "reward" }.RunAsync(Stream(Sample));
        Assert.Equal(["b", "d", "f", "a", "c", "e"], byReward.Episodes.Select(e => e.EpisodeId));
    }

    [Fact]
    public async Task BadOptions_AreAllNamed()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => new EpisodeQuery { Sort = "length", Page = 0, PageSize = 501, MinTurns = 5, MaxTurns = 2 }.RunAsync(Stream(Sample)));
        Assert.Contains("--sort must be one of step, reward, turns, id (got 'length')", e.Message);
        Assert.Contains("--page must be 1 or more (got 0)", e.Message);
        Assert.Contains("--page-size must be between 1 and 500 (got 501)", e.Message);
        Assert.Contains("--min-turns 5 is above --max-turns 2", e.Message);
    }
}

using ReMA.Grains.Episodes;
using ReMA.Learner.Tokenization;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Tests;

public class DemonstrationReplayTests
{
    private static readonly CharTokenizer Tok = new();
    private static readonly ArithmeticTask Task = new(trainSize: 30, evalSize: 5);

    [Theory]
    [InlineData(Protocol.RemaMultiTurn, ViewMode.Compact)]
    [InlineData(Protocol.RemaMultiTurn, ViewMode.Full)]
    [InlineData(Protocol.RemaSingleTurn, ViewMode.Full)]
    [InlineData(Protocol.Vrp, ViewMode.Full)]
    public async System.Threading.Tasks.Task Demonstrations_ReplayIntoTheRowsAnEpisodeWouldProduce(Protocol protocol, ViewMode view)
    {
        var settings = new EpisodeSettings { Protocol = protocol, View = view, MaxTurns = 10, MaxTokensPerTurn = 64, MaxContextTokens = 4000 };
        foreach (Problem p in Task.Load("train").Take(10))
        {
            Demonstration demo = Task.Demonstrate(p, protocol);
            var runner = new EpisodeRunner(Task, settings, new DemonstrationGenerator(demo, _ => new ChatTemplate(Tok)));
            EpisodeResult r = await runner.RunAsync(p, $"demo-{p.Id}", p.Id);
            Assert.True(r.Correct);
            Assert.Equal(protocol == Protocol.RemaMultiTurn ? FinishReasons.Finished : FinishReasons.Completed, r.FinishReason);
            Assert.All(r.Rewards.Values, v => Assert.True(v >= 0));
            foreach (string role in Roles.Of(protocol))
            {
                // What the role is trained on: its messages, each closed by the turn-end token.
                string trained = string.Concat(r.Rows.Where(x => x.Role == role).Select(x => Tok.Decode(x.TokenIds.Where((_, j) => x.LossMask[j]))));
                string expected = string.Concat(demo.Turns.Where(t => t.Role == role).Select(t => t.Text + "<|im_end|>"));
                Assert.Equal(expected, trained);
            }
            Assert.All(r.Rows, row => row.Validate());
        }
    }
}

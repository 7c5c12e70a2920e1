using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;
using Spectre.Console.Testing;

namespace ReMA.Client.Tests;

public class FollowViewTests
{
    private static CampaignStatus Status(long next, StepRecord? last, params EvalRecord[] evals) =>
        new("demo", "running", "rl", next, 60, last, evals, new SftResult(1, "ckpt", 4000, 700, 2.1, 0.31, 150), null, 1, "S127.0.0.1:11111:1");

    private static StepRecord Step(long step, double reward) => new(step, 128, 0, reward, 0.45, reward,
        new Dictionary<string, int> { ["finished"] = 126, ["max_turns"] = 2 }, 3.6,
        new Dictionary<string, double> { ["meta"] = 10.2, ["reasoner"] = 6.8 }, 0.002, 0.01,
        new Dictionary<string, LearnerMetrics>
        {
            ["demo.shared"] = new(900, 8000, 1, -0.004, 0, 0.01, 1e-6, 0, 0.1, 0.3, 1, 0.99, 1.01, 1e-6, 3e-5, 20000, 2.0, 0, 300),
        }, 1.7, 2.0, 5400);

    [Fact]
    public void LivePanel_ShowsProgressMetricsEvaluationsAndRecentLines()
    {
        var console = new TestConsole().Width(160);
        var log = new StringWriter();
        var view = new LiveFollowView("demo", keptLines: 2, log: log);
        view.Line("line one");
        view.Line("line two");
        view.Line("line three");
        view.Update(Status(30, Step(29, 0.375), new EvalRecord(0, "test", 500, 0.492, 9), new EvalRecord(20, "test", 500, 0.51, 9)), TimeSpan.FromSeconds(125.4));
        console.Write(view.Render());
        string screen = console.Output;
        Assert.Contains("30/60", screen);
        Assert.Contains("eta 00:02:05", screen);
        Assert.Contains("0.375", screen);
        Assert.Contains("finished=126 max_turns=2", screen);
        Assert.Contains("meta 10.2 reasoner 6.8", screen);
        Assert.Contains("5400 tok/s", screen);
        Assert.Contains("demo.shared: loss -0.0040", screen);
        Assert.Contains("test: greedy pass@1 51.0 % after 20 steps (49.2 % after 0 steps; 500 problems)", screen);
        Assert.Contains("4000 rows, 700 steps, loss 2.100 -> 0.310", screen);
        // Only the last two lines stay on screen; all three went to the log.
        Assert.DoesNotContain("line one", screen);
        Assert.Contains("line three", screen);
        Assert.Equal(["line one", "line two", "line three"], log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public async Task LivePanel_RunsInALiveDisplay_AndKeepsTheLastFrame()
    {
        var console = new TestConsole().Width(160).Interactive();
        var view = new LiveFollowView("demo");
        int code = await view.RunAsync(console, async () =>
        {
            view.Update(Status(1, Step(0, 0.25)), null);
            await Task.Yield();
            view.Line("campaign demo completed");
            return 7;
        });
        Assert.Equal(7, code);
        Assert.Contains("campaign demo completed", console.Output);
        Assert.Contains("0.250", console.Output);
    }

    [Fact]
    public void PlainView_WritesLinesOnly()
    {
        var output = new StringWriter();
        var view = new PlainFollowView(output);
        view.Update(Status(1, Step(0, 0.25)), null);
        view.Line("step 0 (1/60 done): reward 0.250");
        Assert.Equal("step 0 (1/60 done): reward 0.250" + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void StepLines_NameTheStepFromZero_AndAnExperimentShowsEveryTenthStepDone()
    {
        Assert.StartsWith("step 9 (10/60 done): reward 0.375", TrainCommand.StepLine(Step(9, 0.375), 60));
        var output = new StringWriter();
        var log = new StringWriter();
        var view = new Experiments.ExperimentFollowView(output, log);
        foreach (long step in new long[] { 8, 9, 10 })
        {
            view.Line(TrainCommand.StepLine(Step(step, 0.375), 60));
        }
        Assert.Equal(["step 9 (10/60 done)"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()[..19]));
        Assert.Equal(3, log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}

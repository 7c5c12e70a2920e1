using ReMA.Abstractions.Campaigns;
using ScottPlot;

namespace ReMA.Client;

/// <summary>Reward and accuracy per RL step, with the greedy evaluation accuracies, as a PNG (ScottPlot).</summary>
public static class DemoChart
{
    public static string Write(CampaignRun run, string path)
    {
        var plot = new Plot();
        if (run.History.Length > 0)
        {
            double[] steps = [.. run.History.Select(h => (double)(h.Step + 1))];
            var reward = plot.Add.Scatter(steps, run.History.Select(h => h.RewardMean).ToArray());
            reward.LegendText = "training reward (mean)";
            reward.MarkerSize = 0;
            // The reward of one step (16 prompts) is noisy: a trailing 10-step mean shows the trend.
            double[] smooth = [.. run.History.Select((_, i) => run.History.Skip(Math.Max(0, i - 9)).Take(Math.Min(10, i + 1)).Average(h => h.RewardMean))];
            var trend = plot.Add.Scatter(steps, smooth);
            trend.LegendText = "training reward, 10-step mean";
            trend.MarkerSize = 0;
            trend.LineWidth = 3;
            // Where the environment checks the reasoner's steps (arithmetic): the share of steps computed right.
            var stepped = run.History.Where(h => h.StepAccuracy is not null).ToArray();
            if (stepped.Length > 0)
            {
                var stepAccuracy = plot.Add.Scatter(stepped.Select(h => (double)(h.Step + 1)).ToArray(), stepped.Select(h => h.StepAccuracy!.Value).ToArray());
                stepAccuracy.LegendText = "reasoner step accuracy (sampled)";
                stepAccuracy.MarkerSize = 0;
            }
        }
        foreach (var set in run.Status.Evaluations.GroupBy(e => e.Set))
        {
            var points = plot.Add.Scatter(set.Select(e => (double)e.AfterStep).ToArray(), set.Select(e => e.Accuracy).ToArray());
            points.LegendText = $"{set.Key} (greedy pass@1)";
            points.MarkerSize = 8;
        }
        plot.Title($"{run.Config.Name}: reward and accuracy per RL step");
        plot.XLabel("RL step");
        plot.YLabel("reward / accuracy");
        plot.Axes.SetLimitsY(0, 1);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 900, 500);
        return path;
    }
}

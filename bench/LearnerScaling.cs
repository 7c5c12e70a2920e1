using System.Diagnostics;
using ReMA.Learner.Model;
using ReMA.Learner.Training;
using static TorchSharp.torch;

namespace ReMA.Bench;

/// <summary>
/// How one SFT-style forward and backward of the nano model scales with the row width at 128 rows (7 loss tokens per
/// row): separates per-token cost from fixed cost. `dotnet run -c Release --project bench -- learner-scaling`.
/// </summary>
public static class LearnerScaling
{
    public static int Run(string[] args)
    {
        var model = new CausalLM(ModelPresets.Get("nano", 99), CPU, null, seed: 1);
        var random = new Random(1);
        int[] widths = args.Contains("--rows") ? [24, 24, 24, 24, 24] : [16, 24, 40, 60, 80];
        int[] counts = args.Contains("--rows") ? [32, 64, 128, 256, 370] : [128, 128, 128, 128, 128];
        for (int c = 0; c < widths.Length; c++)
        {
            int width = widths[c], count = counts[c];
            var rows = Enumerable.Range(0, count).Select(i =>
            {
                int[] ids = Enumerable.Range(0, width).Select(_ => random.Next(3, 99)).ToArray();
                bool[] mask = Enumerable.Range(0, width).Select(j => j >= width - 7).ToArray();
                return new TrajectoryRow
                {
                    EpisodeId = $"e{i}", Role = "meta", GroupId = "g", TokenIds = ids, LossMask = mask,
                    TurnIndex = mask.Select(m => m ? 0 : -1).ToArray(), OldLogProbs = Enumerable.Repeat(float.NaN, width).ToArray(), TurnRewards = [1.0],
                };
            }).ToList();
            double forward = 0, backward = 0;
            model.train();
            for (int rep = 0; rep < 13; rep++)
            {
                using var scope = NewDisposeScope();
                var watch = Stopwatch.StartNew();
                var mb = new MicroBatch(rows, packWidth: 0);
                Tensor loss = -mb.Score(model).LogProbs.sum();
                loss.item<float>();
                double f = watch.Elapsed.TotalSeconds;
                loss.backward();
                double b = watch.Elapsed.TotalSeconds - f;
                if (rep >= 3)
                {
                    forward += f / 10;
                    backward += b / 10;
                }
            }
            Console.WriteLine($"{count} rows of width {width,3}: forward {forward * 1000,6:F1} ms, backward {backward * 1000,6:F1} ms ({count * width / (forward + backward) / 1000:F0}k tokens/s)");
        }
        return 0;
    }
}

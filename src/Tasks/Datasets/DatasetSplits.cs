using ReMA.Tasks.Core;

namespace ReMA.Tasks.Datasets;

/// <summary>Deterministic shuffling and splitting by seed (the same seed always gives the same order).</summary>
public static class DatasetSplits
{
    public static List<Problem> Shuffle(IReadOnlyList<Problem> problems, int seed)
    {
        var order = problems.ToList();
        var random = new Random(seed);
        for (int i = order.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Shuffles, then takes <paramref name="evalCount"/> problems for evaluation and the rest for training.</summary>
    public static (List<Problem> Train, List<Problem> Eval) TrainEval(IReadOnlyList<Problem> problems, int evalCount, int seed)
    {
        if (evalCount < 0 || evalCount > problems.Count)
        {
            throw new ArgumentException($"eval count {evalCount} must be between 0 and the dataset size {problems.Count}.");
        }
        var shuffled = Shuffle(problems, seed);
        return (shuffled.Skip(evalCount).Select(p => p with { Split = "train" }).ToList(),
                shuffled.Take(evalCount).Select(p => p with { Split = "test" }).ToList());
    }
}

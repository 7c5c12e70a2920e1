namespace ReMA.Learner.Training;

/// <summary>Splits rows into micro-batches whose padded size (rows x longest row) stays within a token budget.</summary>
public static class RowBatching
{
    /// <summary>
    /// Groups row indices, longest first, so that each group's rows x max length is at most <paramref name="tokenBudget"/>
    /// (a single longer row forms its own group). Every index appears exactly once.
    /// </summary>
    public static List<int[]> ByTokenBudget(IReadOnlyList<int> lengths, int tokenBudget)
    {
        if (tokenBudget <= 0)
        {
            throw new ArgumentException($"micro-batch token budget must be positive (got {tokenBudget}).");
        }
        int[] order = Enumerable.Range(0, lengths.Count).OrderByDescending(i => lengths[i]).ThenBy(i => i).ToArray();
        var batches = new List<int[]>();
        var current = new List<int>();
        int longest = 0;
        foreach (int i in order)
        {
            int len = Math.Max(lengths[i], longest);
            if (current.Count > 0 && (current.Count + 1) * len > tokenBudget)
            {
                batches.Add([.. current]);
                current.Clear();
                len = lengths[i];
            }
            current.Add(i);
            longest = len;
        }
        if (current.Count > 0)
        {
            batches.Add([.. current]);
        }
        return batches;
    }
}

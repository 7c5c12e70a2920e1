namespace ReMA.Learner.Training;

/// <summary>
/// Splits rows into micro-batches within a token budget, and packs a micro-batch's rows into sequences: several short
/// rows share one sequence of the pass, each attending only to itself (see <see cref="MicroBatch"/>), so the pass
/// computes few padding positions.
/// </summary>
public static class RowBatching
{
    /// <summary>
    /// The width packed sequences of these rows get at least (the longest row when longer): twice the mean row, within
    /// the budget. Rows of similar lengths then still share sequences (two rows of 20 tokens fit in 40, not in the 24 of
    /// the longest), and the attention, which spans a whole sequence, stays short. Measured on the arithmetic preset's
    /// SFT rows (14 to 28 tokens) before rows shared prefixes: 1, 2, 2.4, 3.2 and 6.4 times the mean took 74, 56, 59,
    /// 58 and 64 ms per forward and backward of 128 rows. With shared prefixes (<see cref="SharePrefixes"/>), wider
    /// sequences did not share much more: half an RL step's rows of the reference preset (174 rows, 3,472 tokens) took
    /// 1,053, 964, 932 and 913 positions in sequences of 44 (twice the mean), 64, 128 and 256, and 49, 44, 46 and
    /// 53 ms per forward and backward on one thread (172 ms unshared and unpacked).
    /// </summary>
    public static int PackWidth(IReadOnlyList<int> lengths, int tokenBudget) =>
        lengths.Count == 0 ? 1 : (int)Math.Max(1, Math.Min(tokenBudget, 2 * Math.Ceiling(lengths.Average())));

    /// <summary>
    /// Micro-batches of rows to be packed (<see cref="ByPackedBudget"/> at <see cref="PackWidth"/>): pass each group's
    /// rows, in the order given, to <c>new MicroBatch(rows, PackWidth)</c>.
    /// </summary>
    public static (List<int[]> Groups, int PackWidth) Packed(IReadOnlyList<int> lengths, int tokenBudget)
    {
        int width = PackWidth(lengths, tokenBudget);
        return (ByPackedBudget(lengths, tokenBudget, width), width);
    }

    /// <summary>
    /// Groups row indices, longest first, so that each group's rows x max length is at most <paramref name="tokenBudget"/>
    /// (a single longer row forms its own group). Every index appears exactly once. For unpacked passes.
    /// </summary>
    public static List<int[]> ByTokenBudget(IReadOnlyList<int> lengths, int tokenBudget)
    {
        CheckBudget(tokenBudget);
        int[] order = LongestFirst(lengths);
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

    /// <summary>
    /// Groups row indices, longest first, so that each group packed as <see cref="MicroBatch"/> packs it (sequences of
    /// <paramref name="packWidth"/> tokens, or the group's longest row when longer) takes at most
    /// <paramref name="tokenBudget"/> positions: sequences x width. A row longer than the budget forms its own group.
    /// Every index appears exactly once; the indices of a group are in the order <see cref="Pack"/> places them, so
    /// packing a group gives the sequences counted here.
    /// </summary>
    public static List<int[]> ByPackedBudget(IReadOnlyList<int> lengths, int tokenBudget, int packWidth)
    {
        CheckBudget(tokenBudget);
        packWidth = Math.Min(packWidth, tokenBudget);   // a group of short rows never exceeds the budget
        var batches = new List<int[]>();
        var current = new List<int>();
        var free = new List<int>();   // room left in each sequence of the current group
        int width = 0;
        foreach (int i in LongestFirst(lengths))
        {
            int len = lengths[i];
            if (current.Count == 0)
            {
                width = Math.Max(len, packWidth);   // the group's longest row is its first
            }
            int bin = free.FindIndex(room => room >= len);
            if (bin < 0 && current.Count > 0 && (free.Count + 1L) * width > tokenBudget)
            {
                batches.Add([.. current]);
                current.Clear();
                free.Clear();
                width = Math.Max(len, packWidth);
            }
            if (bin < 0)
            {
                free.Add(width - len);
            }
            else
            {
                free[bin] -= len;
            }
            current.Add(i);
        }
        if (current.Count > 0)
        {
            batches.Add([.. current]);
        }
        return batches;
    }

    /// <summary>
    /// First-fit packing, longest row first, into sequences of <paramref name="width"/> tokens (at least the longest
    /// row): row i goes to sequence <c>Sequence[i]</c> at position <c>Offset[i]</c>.
    /// </summary>
    public static (int[] Sequence, int[] Offset, int Sequences) Pack(IReadOnlyList<int> lengths, int width)
    {
        if (lengths.Count > 0 && lengths.Max() > width)
        {
            throw new ArgumentException($"packing: a row of {lengths.Max()} tokens does not fit sequences of {width}.");
        }
        var sequence = new int[lengths.Count];
        var offset = new int[lengths.Count];
        var used = new List<int>();
        foreach (int i in LongestFirst(lengths))
        {
            int bin = used.FindIndex(u => u + lengths[i] <= width);
            if (bin < 0)
            {
                bin = used.Count;
                used.Add(0);
            }
            sequence[i] = bin;
            offset[i] = used[bin];
            used[bin] += lengths[i];
        }
        return (sequence, offset, used.Count);
    }

    /// <summary>
    /// Rows laid out in sequences of <paramref name="width"/> positions (at least the longest row) so that rows that
    /// begin with the same tokens share those positions: the rows are taken in lexicographic order of their tokens, and
    /// a row goes into the current sequence after its longest common prefix with the row before it (the longest it
    /// shares with any row there), or starts a new sequence when its remaining tokens do not fit. The positions of a
    /// sequence form a forest in depth-first order: token j of a row sits at depth j, and the positions that descend
    /// from a position are the ones right after it, up to <c>End</c> (exclusive), so a position's ancestors are
    /// exactly the positions p before it with End[p] beyond it. Row i's token j is at flat position
    /// <c>Node[i][j]</c> (sequence x width + offset); padding positions have End = themselves + 1. Identical rows share
    /// every position.
    /// </summary>
    public static (int[][] Node, int[] End, int Sequences, int Positions) SharePrefixes(IReadOnlyList<IReadOnlyList<int>> rows, int width)
    {
        if (rows.Count > 0 && rows.Max(r => r.Count) > width)
        {
            throw new ArgumentException($"packing: a row of {rows.Max(r => r.Count)} tokens does not fit sequences of {width}.");
        }
        int[] order = Enumerable.Range(0, rows.Count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            IReadOnlyList<int> x = rows[a], y = rows[b];
            for (int j = 0; j < Math.Min(x.Count, y.Count); j++)
            {
                if (x[j] != y[j])
                {
                    return x[j].CompareTo(y[j]);
                }
            }
            return x.Count != y.Count ? x.Count.CompareTo(y.Count) : a.CompareTo(b);
        });
        var node = new int[rows.Count][];
        var ends = new List<int>();
        int sequences = 0, fill = 0, positions = 0, previous = -1;
        foreach (int i in order)
        {
            IReadOnlyList<int> row = rows[i];
            int shared = 0;
            if (previous >= 0)
            {
                IReadOnlyList<int> before = rows[previous];
                while (shared < Math.Min(row.Count, before.Count) && row[shared] == before[shared])
                {
                    shared++;
                }
            }
            if (previous < 0 || fill + row.Count - shared > width)
            {
                // A new sequence: the previous one's remaining positions are padding.
                for (; sequences > 0 && fill < width; fill++)
                {
                    ends.Add(ends.Count + 1);
                }
                sequences++;
                fill = 0;
                shared = 0;
            }
            node[i] = new int[row.Count];
            int start = (sequences - 1) * width;
            for (int j = 0; j < row.Count; j++)
            {
                if (j < shared)
                {
                    node[i][j] = node[previous][j];
                }
                else
                {
                    node[i][j] = start + fill++;
                    ends.Add(0);
                    positions++;
                }
            }
            foreach (int flat in node[i])
            {
                ends[flat] = start + fill;   // every position on this row's path now reaches its last token
            }
            previous = i;
        }
        for (; sequences > 0 && fill < width; fill++)
        {
            ends.Add(ends.Count + 1);
        }
        return (node, [.. ends], sequences, positions);
    }

    private static int[] LongestFirst(IReadOnlyList<int> lengths) =>
        Enumerable.Range(0, lengths.Count).OrderByDescending(i => lengths[i]).ThenBy(i => i).ToArray();

    private static void CheckBudget(int tokenBudget)
    {
        if (tokenBudget <= 0)
        {
            throw new ArgumentException($"micro-batch token budget must be positive (got {tokenBudget}).");
        }
    }
}

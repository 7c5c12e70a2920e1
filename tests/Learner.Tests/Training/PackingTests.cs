using ReMA.Learner.Model;
using ReMA.Learner.Training;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests.Training;

/// <summary>Rows packed into shared sequences of a pass (<see cref="MicroBatch"/>, <see cref="RowBatching"/>).</summary>
public class PackingTests
{
    private static List<TrajectoryRow> Rows(int vocab, int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            int n = random.Next(4, 23);
            int[] ids = Enumerable.Range(0, n).Select(_ => random.Next(3, vocab)).ToArray();
            int[] turns = Enumerable.Range(0, n).Select(j => j < 2 ? -1 : j < n / 2 ? 0 : j == n / 2 ? -1 : 1).ToArray();
            return TrainingFixtures.Row($"e{i}", $"g{i % 3}", ids, turns, [1, -1]);
        }).ToList();
    }

    /// <summary>Each row's log-probs and the gradient are those of a pass over the rows padded one per sequence.</summary>
    [Theory]
    [InlineData("nano-qwen2")]   // grouped-query attention, q/k/v biases
    [InlineData("nano")]
    public void PackedRows_ScoreAndDifferentiateAsUnpackedOnes(string preset)
    {
        using CausalLM model = TestModels.Tiny(preset, seed: 5, dtype: ScalarType.Float64);
        var rows = Rows(model.Config.VocabSize, 13, seed: 8);
        PassResult plain = Pass(model, rows, 0), packed = Pass(model, rows, null);
        Assert.Equal(rows.Count, plain.Batch.Sequences);
        Assert.True(packed.Batch.Sequences <= (rows.Count + 1) / 2, $"{packed.Batch.Sequences} sequences for {rows.Count} rows");
        Assert.True(packed.Batch.PassTokens < plain.Batch.PassTokens, $"packed {packed.Batch.PassTokens} positions, padded {plain.Batch.PassTokens}");
        AssertSameValues(plain, packed, "packed");
    }

    /// <summary>One scored pass of <paramref name="rows"/> and the gradient of a weighted sum of its log-probs.</summary>
    private sealed record PassResult(double[] LogProbs, Dictionary<string, double[]> Grads, MicroBatch Batch);

    private static PassResult Pass(CausalLM model, List<TrajectoryRow> rows, int? packWidth, float temperature = 1f)
    {
        foreach (var p in model.parameters())
        {
            p.grad = null;
        }
        var batch = new MicroBatch(rows, packWidth);
        Tensor logp = batch.Score(model, temperature).LogProbs;
        (logp * arange(logp.shape[0], dtype: ScalarType.Float64).cos()).sum().backward();
        return new(logp.detach().data<double>().ToArray(), model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.data<double>().ToArray()), batch);
    }

    /// <summary>The same loss tokens, log-probs (1e-12) and gradient (1e-10 of each parameter's largest) as the padded pass.</summary>
    private static void AssertSameValues(PassResult plain, PassResult other, string label)
    {
        Assert.Equal(plain.Batch.RowOf, other.Batch.RowOf);
        Assert.Equal(plain.Batch.PositionOf, other.Batch.PositionOf);
        Assert.Equal(plain.Batch.TurnId, other.Batch.TurnId);
        Assert.Equal(plain.LogProbs.Length, other.LogProbs.Length);
        for (int m = 0; m < plain.LogProbs.Length; m++)
        {
            Assert.True(Math.Abs(plain.LogProbs[m] - other.LogProbs[m]) <= 1e-12, $"loss token {m}: {plain.LogProbs[m]} padded, {other.LogProbs[m]} {label}");
        }
        foreach ((string name, double[] g) in plain.Grads)
        {
            double scale = g.Max(Math.Abs);
            Assert.True(scale > 0, $"{name}: no gradient");
            for (int i = 0; i < g.Length; i++)
            {
                Assert.True(Math.Abs(g[i] - other.Grads[name][i]) <= 1e-10 * scale, $"{name}[{i}]: {g[i]} padded, {other.Grads[name][i]} {label}");
            }
        }
    }

    /// <summary>
    /// Rows as a compact-view step has them: the rows of a group begin with the same question, many continue the same
    /// way, some are identical; each row's turn tokens come after a context of its own length.
    /// </summary>
    private static List<TrajectoryRow> SharingRows(int vocab, int seed)
    {
        var random = new Random(seed);
        int[] Ids(int n) => Enumerable.Range(0, n).Select(_ => random.Next(3, vocab)).ToArray();
        var rows = new List<TrajectoryRow>();
        for (int g = 0; g < 3; g++)
        {
            int[] question = Ids(random.Next(3, 8));
            int[][] paths = [Ids(6), Ids(6)];
            for (int e = 0; e < 5; e++)
            {
                int[] context = [.. question, .. paths[random.Next(2)][..random.Next(0, 7)]];
                int[] turn = e == 4 && rows.Count > 0 ? [] : Ids(random.Next(1, 5));
                int[] ids = turn.Length == 0 ? rows[^1].TokenIds : [.. context, .. turn];   // the last: a copy of the row before
                int contextLength = turn.Length == 0 ? ids.Length - 1 : context.Length;
                int[] turns = Enumerable.Range(0, ids.Length).Select(j => j < contextLength ? -1 : 0).ToArray();
                rows.Add(TrainingFixtures.Row($"e{g}-{e}", $"g{g}", ids, turns, [e % 2 == 0 ? 1 : -1]));
            }
        }
        return rows;
    }

    /// <summary>
    /// Rows that begin alike share positions of the pass, and their log-probs and gradient are still those of a pass
    /// over the rows padded one per sequence; a row that repeats another shares all of its positions.
    /// </summary>
    [Theory]
    [InlineData("nano-qwen2")]
    [InlineData("nano")]
    public void RowsSharingPrefixes_ScoreAndDifferentiateAsUnpackedOnes(string preset)
    {
        using CausalLM model = TestModels.Tiny(preset, seed: 6, dtype: ScalarType.Float64);
        var rows = SharingRows(model.Config.VocabSize, seed: 4);
        PassResult plain = Pass(model, rows, 0, temperature: 0.7f), shared = Pass(model, rows, 64, temperature: 0.7f);
        Assert.Equal(plain.Batch.TotalTokens, plain.Batch.ComputedTokens);
        Assert.True(shared.Batch.ComputedTokens < plain.Batch.TotalTokens * 3 / 4, $"{shared.Batch.ComputedTokens} of {plain.Batch.TotalTokens} tokens computed");
        AssertSameValues(plain, shared, "shared");
    }

    /// <summary>
    /// The layout itself: each row's tokens sit at depths 0..n-1 of one sequence, a position's visible keys (the
    /// positions before it whose End reaches past it) are exactly its row's earlier tokens, shared positions hold the
    /// same token for every row on them, and no sequence overflows.
    /// </summary>
    [Fact]
    public void SharePrefixes_LaysEveryRowOnItsOwnPath()
    {
        var random = new Random(11);
        var rows = new List<IReadOnlyList<int>>();
        for (int i = 0; i < 60; i++)
        {
            IReadOnlyList<int>? basis = rows.Count > 0 && random.Next(3) > 0 ? rows[random.Next(rows.Count)] : null;
            int keep = basis is null ? 0 : random.Next(0, basis.Count + 1);
            rows.Add([.. (basis ?? []).Take(keep), .. Enumerable.Range(0, random.Next(basis is null ? 1 : 0, 9)).Select(_ => random.Next(0, 4))]);
        }
        rows.RemoveAll(r => r.Count == 0);
        const int width = 24;
        (int[][] node, int[] end, int sequences, int positions) = RowBatching.SharePrefixes(rows, width);
        Assert.Equal(sequences * width, end.Length);
        var token = new Dictionary<int, int>();
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i].Count, node[i].Length);
            int sequence = node[i][0] / width;
            for (int j = 0; j < rows[i].Count; j++)
            {
                int q = node[i][j];
                Assert.Equal(sequence, q / width);
                Assert.True(!token.TryGetValue(q, out int t) || t == rows[i][j], $"position {q} holds two tokens");
                token[q] = rows[i][j];
                var visible = Enumerable.Range(sequence * width, q - sequence * width + 1).Where(k => end[k] > q).ToArray();
                Assert.Equal(node[i][..(j + 1)], visible);
            }
        }
        Assert.Equal(token.Count, positions);
        Assert.True(positions < rows.Sum(r => r.Count), $"{positions} positions for {rows.Sum(r => r.Count)} tokens");
        var error = Assert.Throws<ArgumentException>(() => RowBatching.SharePrefixes([Enumerable.Repeat(1, 30).ToArray()], width));
        Assert.Contains("a row of 30 tokens does not fit sequences of 24", error.Message);
    }

    [Fact]
    public void Pack_PlacesEveryRowOnceWithoutOverlap()
    {
        int[] lengths = [9, 3, 14, 7, 7, 2, 12, 5, 16, 1];
        (int[] sequence, int[] offset, int sequences) = RowBatching.Pack(lengths, 16);
        var used = new bool[sequences, 16];
        for (int i = 0; i < lengths.Length; i++)
        {
            Assert.InRange(offset[i] + lengths[i], 1, 16);
            for (int j = offset[i]; j < offset[i] + lengths[i]; j++)
            {
                Assert.False(used[sequence[i], j], $"row {i} overlaps another at sequence {sequence[i]}, position {j}");
                used[sequence[i], j] = true;
            }
        }
        Assert.Equal((int)Math.Ceiling(lengths.Sum() / 16.0), sequences);   // 76 tokens: first fit needs 5 sequences here
        var error = Assert.Throws<ArgumentException>(() => RowBatching.Pack([20], 16));
        Assert.Contains("a row of 20 tokens does not fit sequences of 16", error.Message);
    }

    [Fact]
    public void ByPackedBudget_KeepsEachPackedPassWithinTheBudget()
    {
        var random = new Random(2);
        int[] lengths = Enumerable.Range(0, 200).Select(_ => random.Next(3, 40)).Append(70).ToArray();
        var rows = lengths.Select((n, i) => TrainingFixtures.Row($"e{i}", "g", Enumerable.Repeat(5, n).ToArray(), Enumerable.Range(0, n).Select(j => j == n - 1 ? 0 : -1).ToArray(), [1])).ToList();
        foreach (int budget in new[] { 16, 60, 200, 1000, 100_000 })
        {
            (List<int[]> groups, int width) = RowBatching.Packed(lengths, budget);
            Assert.Equal(Enumerable.Range(0, lengths.Length), groups.SelectMany(g => g).Order());
            foreach (int[] group in groups)
            {
                // Packed as the learner packs it: the micro-batch's own pass stays within the budget.
                var batch = new MicroBatch([.. group.Select(i => rows[i])], width);
                Assert.True(group.Length == 1 || batch.PassTokens <= budget,
                    $"budget {budget}: {group.Length} rows packed into {batch.Sequences} x {batch.Width}");
            }
            if (budget == 100_000)
            {
                Assert.Single(groups);
            }
        }
        Assert.Equal(2 * (int)Math.Ceiling(lengths.Average()), RowBatching.PackWidth(lengths, 100_000));
        Assert.Equal(30, RowBatching.PackWidth(lengths, 30));
    }

    [Fact]
    public void LossAtPositionZero_IsRefused()
    {
        var row = TrainingFixtures.Row("e", "g", [4, 5, 6], [0, -1, -1], [1]);
        var error = Assert.Throws<ArgumentException>(() => new MicroBatch([row]));
        Assert.Contains("loss at position 0", error.Message);
    }
}

using ReMA.Learner.Model;
using static TorchSharp.torch;

namespace ReMA.Learner.Training;

public enum EntropyMode
{
    None,
    Detached,
    WithGradient,
}

/// <summary>
/// Rows in one forward pass, with the loss positions flattened: for loss token m (row i, position j) the model's
/// prediction at position j-1 of row i is scored against token j. Host-side arrays describe each loss token's turn so
/// that losses can group tokens by turn.
/// <para>
/// The rows are packed: short rows share a sequence of the pass, each token at its own row position (0, 1, ...) and
/// attending only to its own row's earlier tokens, so every row's values are those of a pass over that row alone, and
/// the pass spends little on padding. Rows of one compact-view step vary from a dozen tokens to several dozen; padded
/// to the longest, half a pass was padding.
/// </para>
/// <para>
/// Rows that begin with the same tokens share them (<see cref="RowBatching.SharePrefixes"/>): the shared tokens are
/// computed once, and each row's own tokens attend to them as to their own, which they are; the values are unchanged.
/// A compact-view step repeats a lot: a group's episodes answer one question, its turn rows repeat the question and
/// the state the episode reached, and a confident policy's samples often follow the same path. Where sharing would
/// take more sequences than first-fit packing without it (<see cref="RowBatching.Pack"/>), the rows do not share.
/// </para>
/// </summary>
public sealed class MicroBatch
{
    private readonly long[] _ids;          // [Sequences, Width]
    private readonly long[] _positions;    // [Sequences, Width]: each row's own positions; 0 in padding
    private readonly long[] _ends;         // [Sequences, Width]: the offset after the last position descending from each
    private readonly long[] _predictFrom;  // flat index of the position whose logits predict loss token m
    private readonly long[] _targets;

    /// <param name="packWidth">
    /// Packed sequences are at least this wide (the longest row when longer); null: <see cref="RowBatching.PackWidth"/>
    /// of these rows; 0 or less: one row per sequence, padded to the longest.
    /// </param>
    public MicroBatch(IReadOnlyList<TrajectoryRow> rows, int? packWidth = null)
    {
        if (rows.Count == 0)
        {
            throw new ArgumentException("micro-batch: no rows.");
        }
        Rows = rows;
        RowCount = rows.Count;
        int longest = rows.Max(r => r.Length);
        int pack = packWidth ?? RowBatching.PackWidth(rows.Select(r => r.Length).ToList(), int.MaxValue);
        int[][] node;
        int[] ends;
        int positions;
        if (pack > 0)
        {
            Width = Math.Max(longest, pack);
            (node, ends, Sequences, positions) = RowBatching.SharePrefixes([.. rows.Select(r => (IReadOnlyList<int>)r.TokenIds)], Width);
            (int[] sequenceOf, int[] offsetOf, int firstFit) = RowBatching.Pack(rows.Select(r => r.Length).ToList(), Width);
            if (firstFit < Sequences)
            {
                // Rows that share little fill fewer sequences first-fit: then no row shares (never more positions than
                // RowBatching.ByPackedBudget counted).
                (node, ends, Sequences) = Separate(rows, sequenceOf, offsetOf, firstFit);
                positions = rows.Sum(r => r.Length);
            }
        }
        else
        {
            Width = longest;
            (node, ends, Sequences) = Separate(rows, Enumerable.Range(0, RowCount).ToArray(), new int[RowCount], RowCount);
            positions = rows.Sum(r => r.Length);
        }
        _ids = new long[Sequences * Width];
        _positions = new long[Sequences * Width];
        _ends = new long[Sequences * Width];
        for (int f = 0; f < _ends.Length; f++)
        {
            _ends[f] = f % Width + 1;   // padding: itself only
        }
        var predictFrom = new List<long>();
        var targets = new List<long>();
        var rowOf = new List<int>();
        var turnOf = new List<int>();
        var positionOf = new List<int>();
        for (int i = 0; i < RowCount; i++)
        {
            TrajectoryRow row = rows[i];
            for (int j = 0; j < row.Length; j++)
            {
                int flat = node[i][j];
                _ids[flat] = row.TokenIds[j];
                _positions[flat] = j;
                _ends[flat] = (ends[flat] - 1) % Width + 1;   // within the sequence
                if (row.LossMask[j])
                {
                    if (j == 0)
                    {
                        throw new ArgumentException($"micro-batch: row {i} (episode {row.EpisodeId}) has loss at position 0, which nothing precedes.");
                    }
                    predictFrom.Add(node[i][j - 1]);
                    targets.Add(row.TokenIds[j]);
                    rowOf.Add(i);
                    turnOf.Add(row.TurnIndex[j]);
                    positionOf.Add(j);
                }
            }
        }
        ComputedTokens = positions;
        TotalTokens = rows.Sum(r => (long)r.Length);
        _predictFrom = [.. predictFrom];
        _targets = [.. targets];
        RowOf = [.. rowOf];
        TurnOf = [.. turnOf];
        PositionOf = [.. positionOf];

        // Turns of this micro-batch numbered 0..K-1 (rows are never split, so a turn is whole here).
        var turnKeys = new Dictionary<(int Row, int Turn), int>();
        TurnId = new long[RowOf.Length];
        for (int m = 0; m < RowOf.Length; m++)
        {
            if (!turnKeys.TryGetValue((RowOf[m], TurnOf[m]), out int k))
            {
                k = turnKeys.Count;
                turnKeys[(RowOf[m], TurnOf[m])] = k;
            }
            TurnId[m] = k;
        }
        TurnCount = turnKeys.Count;
    }

    public IReadOnlyList<TrajectoryRow> Rows { get; }
    public int RowCount { get; }
    /// <summary>Sequences of the pass (rows packed together share one).</summary>
    public int Sequences { get; }
    /// <summary>Tokens per sequence of the pass.</summary>
    public int Width { get; }
    /// <summary>Positions the pass computes: sequences x width, padding included.</summary>
    public long PassTokens => (long)Sequences * Width;
    /// <summary>Number of loss tokens (M).</summary>
    public int LossTokens => _targets.Length;
    public int TurnCount { get; }
    public int[] RowOf { get; }
    public int[] TurnOf { get; }
    public int[] PositionOf { get; }
    /// <summary>Micro-batch-local turn number (0..TurnCount-1) of each loss token.</summary>
    public long[] TurnId { get; }
    /// <summary>Tokens of the rows (padding not counted).</summary>
    public long TotalTokens { get; }
    /// <summary>Positions of the pass that hold a token: <see cref="TotalTokens"/> less the ones rows share.</summary>
    public long ComputedTokens { get; }

    /// <summary>
    /// Log-probs [M] of the loss tokens under softmax(logits / temperature), with gradients when enabled, and (when
    /// asked) the entropy [M] of each of those distributions, with gradients or detached.
    /// </summary>
    public (Tensor LogProbs, Tensor? Entropy) Score(CausalLM model, float temperature = 1f, EntropyMode entropy = EntropyMode.None)
    {
        using var scope = NewDisposeScope();
        Device device = model.Device;
        Tensor ids = tensor(_ids, [Sequences, Width], device: device);
        Tensor positions = tensor(_positions, [Sequences, Width], device: device);
        Tensor hidden = model.Hidden(ids, positions, Mask(device));
        // Only positions that predict a loss token go through the output layer.
        Tensor picked = hidden.reshape(PassTokens, -1).index_select(0, tensor(_predictFrom, device: device));
        Tensor logits = model.Logits(picked);
        if (temperature != 1f)
        {
            logits = logits / temperature;
        }
        Tensor logp = logits.log_softmax(-1);                                                    // [M, V]
        Tensor tokenLogp = logp.gather(1, tensor(_targets, device: device).unsqueeze(1)).squeeze(1);
        Tensor? ent = null;
        if (entropy == EntropyMode.WithGradient)
        {
            ent = -(logp.exp() * logp).sum(-1);
        }
        else if (entropy == EntropyMode.Detached)
        {
            using var noGrad = no_grad();
            Tensor detached = logp.detach();
            ent = -(detached.exp() * detached).sum(-1);
        }
        return (tokenLogp.MoveToOuterDisposeScope(), ent?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The additive mask [Sequences, 1, Width, Width]: a query attends to the keys at or before it that it descends from
    /// (its own row's earlier tokens, shared or not; see <see cref="RowBatching.SharePrefixes"/>): key k is visible to
    /// query q when k &lt;= q &lt; end[k]. A padding position attends to itself only, so no row of the mask is all blocked.
    /// </summary>
    private Tensor Mask(Device device)
    {
        using var scope = NewDisposeScope();
        Tensor ends = tensor(_ends, [Sequences, 1, Width], device: device);                    // [S, 1, Tk]
        Tensor index = arange(Width, dtype: ScalarType.Int64, device: device);
        Tensor later = (index.unsqueeze(0) > index.unsqueeze(1)).unsqueeze(0);                   // [1, Tq, Tk]
        Tensor outside = index.view(1, Width, 1) >= ends;                                        // [S, Tq, Tk]
        Tensor mask = zeros([Sequences, Width, Width], dtype: ScalarType.Float32, device: device)
            .masked_fill(later.logical_or(outside), CausalLM.BlockedScalar);
        return mask.unsqueeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Each row on positions of its own: row i at sequence <paramref name="sequenceOf"/>[i], offset <paramref name="offsetOf"/>[i].</summary>
    private (int[][] Node, int[] End, int Sequences) Separate(IReadOnlyList<TrajectoryRow> rows, int[] sequenceOf, int[] offsetOf, int sequences)
    {
        var node = new int[rows.Count][];
        var ends = new int[sequences * Width];
        for (int i = 0; i < rows.Count; i++)
        {
            int start = sequenceOf[i] * Width + offsetOf[i];
            node[i] = Enumerable.Range(start, rows[i].Length).ToArray();
            for (int j = 0; j < rows[i].Length; j++)
            {
                ends[start + j] = start + rows[i].Length;
            }
        }
        return (node, ends, sequences);
    }
}

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
/// The rows are packed (<see cref="RowBatching.Pack"/>): short rows share a sequence of the pass, each at its own
/// positions 0, 1, ... and attending only to its own earlier tokens (a block-diagonal causal mask), so every row's
/// values are those of a pass over that row alone, and the pass spends little on padding. Rows of one compact-view
/// step vary from a dozen tokens to several dozen; padded to the longest, half a pass was padding.
/// </para>
/// </summary>
public sealed class MicroBatch
{
    private readonly long[] _ids;          // [Sequences, Width]
    private readonly long[] _positions;    // [Sequences, Width]: each row's own positions; 0 in padding
    private readonly long[] _segments;     // [Sequences, Width]: the row at each position; -1 in padding
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
        int[] sequenceOf, offsetOf;
        int pack = packWidth ?? RowBatching.PackWidth(rows.Select(r => r.Length).ToList(), int.MaxValue);
        if (pack > 0)
        {
            Width = Math.Max(longest, pack);
            (sequenceOf, offsetOf, Sequences) = RowBatching.Pack(rows.Select(r => r.Length).ToList(), Width);
        }
        else
        {
            Width = longest;
            (sequenceOf, offsetOf, Sequences) = (Enumerable.Range(0, RowCount).ToArray(), new int[RowCount], RowCount);
        }
        _ids = new long[Sequences * Width];
        _positions = new long[Sequences * Width];
        _segments = new long[Sequences * Width];
        Array.Fill(_segments, -1L);
        var predictFrom = new List<long>();
        var targets = new List<long>();
        var rowOf = new List<int>();
        var turnOf = new List<int>();
        var positionOf = new List<int>();
        for (int i = 0; i < RowCount; i++)
        {
            TrajectoryRow row = rows[i];
            long start = (long)sequenceOf[i] * Width + offsetOf[i];
            for (int j = 0; j < row.Length; j++)
            {
                _ids[start + j] = row.TokenIds[j];
                _positions[start + j] = j;
                _segments[start + j] = i;
                if (row.LossMask[j])
                {
                    if (j == 0)
                    {
                        throw new ArgumentException($"micro-batch: row {i} (episode {row.EpisodeId}) has loss at position 0, which nothing precedes.");
                    }
                    predictFrom.Add(start + j - 1);
                    targets.Add(row.TokenIds[j]);
                    rowOf.Add(i);
                    turnOf.Add(row.TurnIndex[j]);
                    positionOf.Add(j);
                }
            }
        }
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
    /// The additive mask [Sequences, 1, Width, Width]: a query attends to the keys of its own row at or before it. A
    /// padding position attends to the padding at or before it (itself at least), so no row of the mask is all blocked.
    /// </summary>
    private Tensor Mask(Device device)
    {
        using var scope = NewDisposeScope();
        Tensor segments = tensor(_segments, [Sequences, Width], device: device);
        Tensor index = arange(Width, dtype: ScalarType.Int64, device: device);
        Tensor later = (index.unsqueeze(0) > index.unsqueeze(1)).unsqueeze(0);                   // [1, Tq, Tk]
        Tensor otherRow = segments.unsqueeze(2) != segments.unsqueeze(1);                       // [S, Tq, Tk]
        Tensor mask = zeros([Sequences, Width, Width], dtype: ScalarType.Float32, device: device)
            .masked_fill(later.logical_or(otherRow), CausalLM.BlockedScalar);
        return mask.unsqueeze(1).MoveToOuterDisposeScope();
    }
}

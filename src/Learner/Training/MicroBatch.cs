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
/// Rows padded into one forward pass, with the loss positions flattened: for loss token m (row i, position j) the
/// model's prediction at position j-1 is scored against token j. Host-side arrays describe each loss token's turn so
/// that losses can group tokens by turn.
/// </summary>
public sealed class MicroBatch
{
    private readonly long[] _ids;
    private readonly long[] _lengths;
    private readonly long[] _predictFrom;   // flat index (i*T + j-1) of the position whose logits predict loss token m
    private readonly long[] _targets;

    public MicroBatch(IReadOnlyList<TrajectoryRow> rows)
    {
        Rows = rows;
        RowCount = rows.Count;
        Width = rows.Max(r => r.Length);
        _ids = new long[RowCount * Width];
        _lengths = new long[RowCount];
        var predictFrom = new List<long>();
        var targets = new List<long>();
        var rowOf = new List<int>();
        var turnOf = new List<int>();
        var positionOf = new List<int>();
        for (int i = 0; i < RowCount; i++)
        {
            TrajectoryRow row = rows[i];
            _lengths[i] = row.Length;
            for (int j = 0; j < row.Length; j++)
            {
                _ids[i * Width + j] = row.TokenIds[j];
                if (row.LossMask[j])
                {
                    predictFrom.Add((long)i * Width + j - 1);
                    targets.Add(row.TokenIds[j]);
                    rowOf.Add(i);
                    turnOf.Add(row.TurnIndex[j]);
                    positionOf.Add(j);
                }
            }
        }
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
    public int Width { get; }
    /// <summary>Number of loss tokens (M).</summary>
    public int LossTokens => _targets.Length;
    public int TurnCount { get; }
    public int[] RowOf { get; }
    public int[] TurnOf { get; }
    public int[] PositionOf { get; }
    /// <summary>Micro-batch-local turn number (0..TurnCount-1) of each loss token.</summary>
    public long[] TurnId { get; }
    public long TotalTokens => _lengths.Sum();

    /// <summary>
    /// Log-probs [M] of the loss tokens under softmax(logits / temperature), with gradients when enabled, and (when
    /// asked) the entropy [M] of each of those distributions, with gradients or detached.
    /// </summary>
    public (Tensor LogProbs, Tensor? Entropy) Score(CausalLM model, float temperature = 1f, EntropyMode entropy = EntropyMode.None)
    {
        using var scope = NewDisposeScope();
        Device device = model.Device;
        Tensor lengths = tensor(_lengths, device: device);
        Tensor positions = arange(Width, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(RowCount, Width);
        Tensor hidden = model.Hidden(tensor(_ids, [RowCount, Width], device: device), positions, model.CausalMask(Width, lengths, RowCount));
        // Only positions that predict a loss token go through the output layer.
        Tensor picked = hidden.reshape(RowCount * Width, -1).index_select(0, tensor(_predictFrom, device: device));
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
}

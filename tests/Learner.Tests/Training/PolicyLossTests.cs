using ReMA.Learner.Training;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests.Training;

public class PolicyLossTests
{
    private static readonly PolicyLossOptions Token = new() { Ratio = RatioLevel.Token, Aggregation = LossAggregation.Token };

    private static double Loss(float[] logp, float[] old, float[] adv, long[] turns, PolicyLossOptions options, float[]? weights = null)
    {
        using var scope = NewDisposeScope();
        int k = (int)turns.Max() + 1;
        weights ??= Enumerable.Repeat(1f / logp.Length, logp.Length).ToArray();
        return PolicyLoss.Surrogate(tensor(logp), tensor(old), tensor(adv), tensor(weights), tensor(turns), k, options).item<float>();
    }

    [Theory]
    [InlineData(RatioLevel.Token)]
    [InlineData(RatioLevel.TurnArithmetic)]
    [InlineData(RatioLevel.TurnGeometric)]
    public void RatioOne_GivesMinusMeanAdvantage(RatioLevel level)
    {
        float[] logp = [-1f, -2f, -0.5f, -3f];
        float[] adv = [0.5f, 0.5f, -1.5f, -1.5f];
        double loss = Loss(logp, logp, adv, [0, 0, 1, 1], Token with { Ratio = level });
        Assert.Equal(-adv.Average(), loss, 6);
    }

    [Theory]
    [InlineData(1.5, 1.0, -1.2)]    // A > 0, ratio above 1 + eps: clipped at 1.2
    [InlineData(0.5, 1.0, -0.5)]    // A > 0, ratio below 1 - eps: not clipped (pessimistic bound is the ratio)
    [InlineData(0.5, -1.0, 0.8)]    // A < 0, ratio below 1 - eps: clipped at 0.8
    [InlineData(1.1, -1.0, 1.1)]    // A < 0, inside the band
    [InlineData(5.0, -1.0, 3.0)]    // A < 0, ratio 5: dual clip caps the loss at -c A = 3
    [InlineData(2.5, -1.0, 2.5)]    // A < 0, ratio 2.5 < c: no dual clip
    public void TokenLevel_EachClipBranch(double ratio, double advantage, double expected)
    {
        float logp = (float)Math.Log(ratio);
        Assert.Equal(expected, Loss([logp], [0f], [(float)advantage], [0], Token), 5);
    }

    [Fact]
    public void AsymmetricClipBounds_AreRespected()
    {
        var options = Token with { ClipLow = 0.1, ClipHigh = 0.3 };
        Assert.Equal(-1.3, Loss([(float)Math.Log(2.0)], [0f], [1f], [0], options), 5);
        Assert.Equal(0.9, Loss([(float)Math.Log(0.5)], [0f], [-1f], [0], options), 5);
    }

    [Fact]
    public void TurnRatios_ArithmeticAndGeometricForms()
    {
        // One turn of two tokens with log-ratios 0.1 and -0.3, advantage 1 (inside the band for both forms).
        float[] logp = [0.1f, -0.3f];
        float[] old = [0f, 0f];
        double arithmetic = (Math.Exp(0.1) + Math.Exp(-0.3)) / 2;
        double geometric = Math.Exp(-0.1);
        var turn = Token with { Aggregation = LossAggregation.Turn };
        Assert.Equal(-arithmetic, Loss(logp, old, [1f, 1f], [0, 0], turn with { Ratio = RatioLevel.TurnArithmetic }), 5);
        Assert.Equal(-geometric, Loss(logp, old, [1f, 1f], [0, 0], turn with { Ratio = RatioLevel.TurnGeometric }), 5);
        // Mean log-ratio 4 is clamped at 3 before exp; with A < 0 the ratio e^3 is then capped by the dual clip (-c A = 3).
        Assert.Equal(-Math.Exp(3) * 0.1, Loss([4f, 4f], old, [0.1f, 0.1f], [0, 0], turn with { Ratio = RatioLevel.TurnGeometric, ClipHigh = 100 }), 3);
        Assert.Equal(3.0, Loss([4f, 4f], old, [-1f, -1f], [0, 0], turn with { Ratio = RatioLevel.TurnGeometric, ClipLow = 0.2 }), 5);
    }

    [Fact]
    public void TurnLevel_OneClipDecisionPerTurn()
    {
        // Token ratios 1.5 and 0.9 (A > 0): token level clips only the first; turn level (arithmetic mean 1.2) sits on the bound.
        float[] logp = [(float)Math.Log(1.5), (float)Math.Log(0.9)];
        float[] old = [0f, 0f];
        float[] adv = [1f, 1f];
        Assert.Equal(-(1.2 + 0.9) / 2, Loss(logp, old, adv, [0, 0], Token), 5);
        Assert.Equal(-1.2, Loss(logp, old, adv, [0, 0], Token with { Ratio = RatioLevel.TurnArithmetic }), 5);
    }

    [Fact]
    public void Aggregation_TokenTurnAndTrajectoryWeights()
    {
        // Row 0: turn 0 with 1 token, turn 1 with 3 tokens. Row 1: one turn with 2 tokens. Per-token losses: -A at ratio 1.
        var r0 = TrainingFixtures.Row("a", "g", [5, 6, 7, 8, 9], [-1, 0, 1, 1, 1], [0, 1]);
        var r1 = TrainingFixtures.Row("b", "g", [5, 6, 7], [-1, 0, 0], [1]);
        var batch = new MicroBatch([r0, r1]);
        float[] adv = [1f, 2f, 2f, 2f, 4f, 4f];  // turn advantages: r0 t0 = 1, r0 t1 = 2, r1 t0 = 4
        float[] zero = new float[6];
        double Agg(LossAggregation a) =>
            Loss(zero, zero, adv, batch.TurnId, Token with { Aggregation = a }, PolicyLoss.AggregationWeights(batch, a, 6, 3, 2));
        Assert.Equal(-(1 + 2 * 3 + 4 * 2) / 6.0, Agg(LossAggregation.Token), 5);
        Assert.Equal(-(1 + 2 + 4) / 3.0, Agg(LossAggregation.Turn), 5);
        Assert.Equal(-(((1 + 2) / 2.0) + 4) / 2.0, Agg(LossAggregation.Trajectory), 5);
        // Compact view: both rows belong to one trajectory of 3 turns, so each turn weighs a third of it.
        double compact = Loss(zero, zero, adv, batch.TurnId, Token with { Aggregation = LossAggregation.Trajectory },
            PolicyLoss.AggregationWeights(batch, LossAggregation.Trajectory, 6, 3, 1, [3, 3]));
        Assert.Equal(-(1 + 2 + 4) / 3.0, compact, 5);
    }

    [Fact]
    public void K3_MatchesItsFormulaAndIsClamped()
    {
        using var scope = NewDisposeScope();
        float[] k3 = PolicyLoss.K3(tensor(new[] { -1f, -2f, 0f }), tensor(new[] { -1.5f, -1f, 20f })).data<float>().ToArray();
        Assert.Equal(Math.Exp(-0.5) + 0.5 - 1, k3[0], 5);
        Assert.Equal(Math.Exp(1) - 1 - 1, k3[1], 5);
        Assert.Equal(10f, k3[2]);
    }
}

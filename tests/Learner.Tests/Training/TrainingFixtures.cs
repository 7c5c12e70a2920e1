using ReMA.Learner.Model;
using ReMA.Learner.Training;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests.Training;

internal static class TrainingFixtures
{
    /// <summary>A hand-made row: loss on the given positions, each position's turn, fixed old log-probs.</summary>
    public static TrajectoryRow Row(string episode, string group, int[] ids, int[] turnOfPosition, double[] turnRewards, string role = "meta", float[]? old = null)
    {
        return new TrajectoryRow
        {
            EpisodeId = episode, Role = role, GroupId = group, TokenIds = ids,
            LossMask = turnOfPosition.Select(t => t >= 0).ToArray(),
            TurnIndex = turnOfPosition,
            OldLogProbs = old ?? ids.Select(_ => float.NaN).ToArray(),
            TurnRewards = turnRewards,
        };
    }

    /// <summary>Rows with two turns in one and one turn in the others, of different lengths, over a vocabulary of <paramref name="vocab"/>.</summary>
    public static List<TrajectoryRow> MixedRows(int vocab, int seed = 3)
    {
        var random = new Random(seed);
        int[] Ids(int n) => Enumerable.Range(0, n).Select(_ => random.Next(3, vocab)).ToArray();
        return
        [
            Row("e0", "g0", Ids(12), [-1, -1, -1, 0, 0, 0, -1, -1, 1, 1, 1, 1], [0, 1]),
            Row("e1", "g0", Ids(9), [-1, -1, 0, 0, 0, 0, 0, -1, -1], [0]),
            Row("e2", "g1", Ids(7), [-1, -1, -1, -1, 0, 0, -1], [1]),
            Row("e3", "g1", Ids(15), [-1, -1, 0, -1, -1, 1, 1, 1, 1, 1, 1, -1, 2, 2, -1], [0, 0, 1]),
        ];
    }

    /// <summary>The current model's log-prob at every loss position of each row (no gradients).</summary>
    public static float[][] CurrentLogProbs(CausalLM model, IReadOnlyList<TrajectoryRow> rows)
    {
        using var noGrad = no_grad();
        var result = rows.Select(r => new float[r.Length]).ToArray();
        var batch = new MicroBatch(rows);
        float[] logp = batch.Score(model).LogProbs.to(ScalarType.Float32).data<float>().ToArray();
        for (int m = 0; m < logp.Length; m++)
        {
            result[batch.RowOf[m]][batch.PositionOf[m]] = logp[m];
        }
        return result;
    }

    /// <summary>Rows whose old log-probs are the current ones shifted by <paramref name="shift"/>(position) at loss positions.</summary>
    public static List<TrajectoryRow> WithOld(CausalLM model, IReadOnlyList<TrajectoryRow> rows, Func<int, int, float> shift)
    {
        float[][] current = CurrentLogProbs(model, rows);
        return rows.Select((r, i) => r with
        {
            OldLogProbs = r.LossMask.Select((m, j) => m ? current[i][j] + shift(i, j) : float.NaN).ToArray(),
        }).ToList();
    }
}

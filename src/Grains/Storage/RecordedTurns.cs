using ReMA.Abstractions.Episodes;
using ReMA.Grains.Episodes;

namespace ReMA.Grains.Storage;

/// <summary>The turns of a stored episode with the tokens each one sampled, rebuilt from its transcript and training rows.</summary>
public static class RecordedTurns
{
    /// <summary>
    /// Pairs every transcript turn with its generated tokens: a role's rows hold its turns in order (one row per turn
    /// in the compact view, one row with turn indices in the full view); a turn's sampled tokens are its loss positions
    /// that carry a recorded log-prob (a turn-end token appended after a stop string carries none and was not sampled).
    /// </summary>
    public static RecordedTurn[] From(TrajectoryDocument episode) => [.. WithViews(episode).Select(p => p.Turn)];

    /// <summary>
    /// As <see cref="From"/>, with each turn's view as its role saw it, through the end of the turn: the token ids of the
    /// role's row up to the turn's last token (the prompt and every earlier turn in the full view; the fresh context in
    /// the compact view).
    /// </summary>
    public static IReadOnlyList<(RecordedTurn Turn, int[] View)> WithViews(TrajectoryDocument episode) => [.. Walk(episode).Select((p, i) =>
        (new RecordedTurn(i, p.Turn.Round, p.Turn.Role, p.Turn.Text, p.Ids, p.LogProbs, p.Turn.FinishReason, p.Turn.PolicyVersion), p.View))];

    private static IEnumerable<(TranscriptRecord Turn, int[] Ids, float[] LogProbs, int[] View)> Walk(TrajectoryDocument episode)
    {
        var byRole = new Dictionary<string, Queue<(int[] Ids, float[] LogProbs, int[] View)>>(StringComparer.Ordinal);
        foreach (TrajectoryRecord row in episode.Rows)
        {
            if (!byRole.TryGetValue(row.Role, out var queue))
            {
                byRole[row.Role] = queue = new Queue<(int[], float[], int[])>();
            }
            for (int t = 0; t < row.TurnRewards.Length; t++)
            {
                var ids = new List<int>();
                var logProbs = new List<float>();
                int last = -1;
                for (int j = 0; j < row.TokenIds.Length; j++)
                {
                    if (row.TurnIndex[j] != t)
                    {
                        continue;
                    }
                    last = j;
                    if (row.LossMask[j] && !float.IsNaN(row.OldLogProbs[j]))
                    {
                        ids.Add(row.TokenIds[j]);
                        logProbs.Add(row.OldLogProbs[j]);
                    }
                }
                queue.Enqueue(([.. ids], [.. logProbs], row.TokenIds[..(last + 1)]));
            }
        }
        for (int i = 0; i < episode.Turns.Length; i++)
        {
            TranscriptRecord turn = episode.Turns[i];
            if (!byRole.TryGetValue(turn.Role, out var queue) || queue.Count == 0)
            {
                throw new InvalidDataException($"episode {episode.EpisodeId}: turn {i} ({turn.Role}) has no training row with its tokens (the stored rows and transcript disagree).");
            }
            var (ids, logProbs, view) = queue.Dequeue();
            yield return (turn, ids, logProbs, view);
        }
    }

    /// <summary>The stored episode with this id (training or evaluation, found from the campaign and step its id names), or null.</summary>
    public static async Task<TrajectoryDocument?> FindAsync(this ITrajectoryStore store, string episodeId, CancellationToken cancellation = default)
    {
        (string campaign, long step, bool evaluation) = EpisodeIds.Parse(episodeId);
        await foreach (TrajectoryDocument d in store.ReadAsync(campaign, step, cancellation))
        {
            if (d.EpisodeId == episodeId && d.Evaluation == evaluation)
            {
                return d;
            }
        }
        return null;
    }
}

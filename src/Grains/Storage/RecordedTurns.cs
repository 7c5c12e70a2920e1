using ReMA.Abstractions.Episodes;

namespace ReMA.Grains.Storage;

/// <summary>The turns of a stored episode with the tokens each one sampled, rebuilt from its transcript and training rows.</summary>
public static class RecordedTurns
{
    /// <summary>
    /// Pairs every transcript turn with its generated tokens: a role's rows hold its turns in order (one row per turn
    /// in the compact view, one row with turn indices in the full view); a turn's sampled tokens are its loss positions
    /// that carry a recorded log-prob (a turn-end token appended after a stop string carries none and was not sampled).
    /// </summary>
    public static RecordedTurn[] From(TrajectoryDocument episode)
    {
        var byRole = new Dictionary<string, Queue<(int[] Ids, float[] LogProbs)>>(StringComparer.Ordinal);
        foreach (TrajectoryRecord row in episode.Rows)
        {
            if (!byRole.TryGetValue(row.Role, out var queue))
            {
                byRole[row.Role] = queue = new Queue<(int[], float[])>();
            }
            for (int t = 0; t < row.TurnRewards.Length; t++)
            {
                var ids = new List<int>();
                var logProbs = new List<float>();
                for (int j = 0; j < row.TokenIds.Length; j++)
                {
                    if (row.LossMask[j] && row.TurnIndex[j] == t && !float.IsNaN(row.OldLogProbs[j]))
                    {
                        ids.Add(row.TokenIds[j]);
                        logProbs.Add(row.OldLogProbs[j]);
                    }
                }
                queue.Enqueue(([.. ids], [.. logProbs]));
            }
        }
        var turns = new RecordedTurn[episode.Turns.Length];
        for (int i = 0; i < turns.Length; i++)
        {
            TranscriptRecord t = episode.Turns[i];
            if (!byRole.TryGetValue(t.Role, out var queue) || queue.Count == 0)
            {
                throw new InvalidDataException($"episode {episode.EpisodeId}: turn {i} ({t.Role}) has no training row with its tokens (the stored rows and transcript disagree).");
            }
            (int[] ids, float[] logProbs) = queue.Dequeue();
            turns[i] = new RecordedTurn(i, t.Round, t.Role, t.Text, ids, logProbs, t.FinishReason, t.PolicyVersion);
        }
        return turns;
    }

    /// <summary>
    /// Each transcript turn's view as its role saw it, through the end of the turn: the token ids of the role's row up to
    /// the turn's last token (the prompt and every earlier turn in the full view; the fresh context in the compact view).
    /// </summary>
    public static int[][] Views(TrajectoryDocument episode)
    {
        var byRole = new Dictionary<string, Queue<int[]>>(StringComparer.Ordinal);
        foreach (TrajectoryRecord row in episode.Rows)
        {
            if (!byRole.TryGetValue(row.Role, out var queue))
            {
                byRole[row.Role] = queue = new Queue<int[]>();
            }
            for (int t = 0; t < row.TurnRewards.Length; t++)
            {
                int last = -1;
                for (int j = 0; j < row.TokenIds.Length; j++)
                {
                    if (row.TurnIndex[j] == t)
                    {
                        last = j;
                    }
                }
                queue.Enqueue(row.TokenIds[..(last + 1)]);
            }
        }
        return [.. episode.Turns.Select((t, i) => byRole.TryGetValue(t.Role, out var q) && q.Count > 0 ? q.Dequeue()
            : throw new InvalidDataException($"episode {episode.EpisodeId}: turn {i} ({t.Role}) has no training row with its tokens."))];
    }
}

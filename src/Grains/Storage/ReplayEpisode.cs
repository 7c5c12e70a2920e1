using ReMA.Abstractions.Episodes;

namespace ReMA.Grains.Storage;

/// <summary>One generated token of a replayed turn: its id, its text, and the log-prob it was sampled with.</summary>
public sealed record ReplayToken(int Id, string Text, float LogProb);

/// <summary>A turn as the replay shows it: what the role said, token by token, and the role's whole view up to the end of the turn.</summary>
public sealed record ReplayTurn(int Index, int Round, string Role, string Text, string FinishReason, long PolicyVersion, double MeanLogProb,
    IReadOnlyList<ReplayToken> Tokens, string View);

/// <summary>A stored episode ready to step through.</summary>
public sealed record ReplayEpisode(string Campaign, long Step, bool Evaluation, string EpisodeId, string Question, string GoldAnswer, string? Extracted,
    bool Correct, double Reward, string FinishReason, double Seconds, IReadOnlyList<ReplayTurn> Turns)
{
    /// <summary>Builds the replay from a stored document; <paramref name="decode"/> gives each token id's text for a role.</summary>
    public static async Task<ReplayEpisode> FromAsync(TrajectoryDocument d, Func<string, int[], Task<string[]>> decode)
    {
        var turns = new List<ReplayTurn>();
        foreach ((RecordedTurn t, int[] viewIds) in RecordedTurns.WithViews(d))
        {
            string[] pieces = await decode(t.Role, t.TokenIds);
            string view = string.Concat(await decode(t.Role, viewIds));
            TranscriptRecord tr = d.Turns[t.Index];
            turns.Add(new ReplayTurn(t.Index, t.Round, t.Role, t.Text, t.FinishReason, t.PolicyVersion, tr.MeanLogProb,
                [.. t.TokenIds.Select((id, k) => new ReplayToken(id, pieces[k], t.LogProbs[k]))], view));
        }
        return new ReplayEpisode(d.Campaign, d.Step, d.Evaluation, d.EpisodeId, d.Question, d.GoldAnswer, d.Extracted, d.Correct, d.Reward, d.FinishReason,
            d.Seconds, turns);
    }
}


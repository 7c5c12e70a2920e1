using System.Text.Json;

namespace ReMA.Client.Tests;

/// <summary>`rema replay` on a stored episode of a finished campaign: JSON view, scripted keys, forks, bad input.</summary>
internal static class ReplayChecks
{
    public static async Task RunAsync(string episodeId, string? gateway, long? pinnedVersion = null)
    {
        string[] Args(params string[] args) => gateway is null ? args : [.. args, "--gateway", gateway];

        (int code, string json) = await CliRunner.RunAsync(Args("replay", episodeId, "--json"));
        Assert.True(code == 0, json);
        JsonElement episode = JsonDocument.Parse(json).RootElement.GetProperty("episode");
        Assert.Equal(episodeId, episode.GetProperty("EpisodeId").GetString());
        JsonElement[] turns = [.. episode.GetProperty("Turns").EnumerateArray()];
        Assert.NotEmpty(turns);
        foreach (JsonElement turn in turns)
        {
            JsonElement[] tokens = [.. turn.GetProperty("Tokens").EnumerateArray()];
            Assert.NotEmpty(tokens);
            Assert.All(tokens, t => Assert.True(t.GetProperty("LogProb").GetSingle() <= 0));
            string sampled = string.Concat(tokens.Select(t => t.GetProperty("Text").GetString()));
            // The turn's text is what the role said: the sampled tokens less special tokens (which the text skips, wherever
            // an untrained model puts them) and less a stop string the agent drops.
            string spoken = System.Text.RegularExpressions.Regex.Replace(sampled, @"<\|[a-z_]+\|>", "");
            Assert.StartsWith(turn.GetProperty("Text").GetString()!, spoken);
            Assert.Contains(sampled, turn.GetProperty("View").GetString()!);
        }

        (int keysCode, string shown) = await CliRunner.RunAsync(Args("replay", episodeId, "--keys", "n,v,p,q"));
        Assert.True(keysCode == 0, shown);
        Assert.True(shown.Contains($"turn 2/{turns.Length}", StringComparison.Ordinal), shown);
        Assert.True(shown.Contains("view", StringComparison.Ordinal), shown);
        Assert.True(shown.Contains("(dialogue)", StringComparison.Ordinal), shown);

        // Fork at the second turn (1-based): the first turn is the original's exactly, the rest is generated again.
        string[] fork = Args("replay", episodeId, "--fork", "2", "--seed", "7", "--temperature", "1", "--json");
        if (pinnedVersion is long v)
        {
            fork = [.. fork, "--version", v.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        }
        (int forkCode, string forked) = await CliRunner.RunAsync(fork);
        Assert.True(forkCode == 0, forked);
        JsonElement result = JsonDocument.Parse(forked).RootElement.GetProperty("fork");
        Assert.Equal(1, result.GetProperty("Turn").GetInt32());
        JsonElement[] forkTurns = [.. result.GetProperty("Outcome").GetProperty("Transcript").EnumerateArray()];
        Assert.True(forkTurns.Length >= 2, forked);
        Assert.Equal(turns[0].GetProperty("Text").GetString(), forkTurns[0].GetProperty("Text").GetString());
        Assert.Equal(turns[0].GetProperty("Role").GetString(), forkTurns[0].GetProperty("Role").GetString());
        Assert.Equal(turns[0].GetProperty("PolicyVersion").GetInt64(), forkTurns[0].GetProperty("PolicyVersion").GetInt64());
        if (pinnedVersion is long pinned)
        {
            Assert.All(forkTurns.Skip(1), t => Assert.Equal(pinned, t.GetProperty("PolicyVersion").GetInt64()));
        }
        // The replayed turn's training row holds the original's sampled tokens, not a re-tokenisation of its text.
        int[] originalIds = [.. turns[0].GetProperty("Tokens").EnumerateArray().Select(t => t.GetProperty("Id").GetInt32())];
        string firstRole = turns[0].GetProperty("Role").GetString()!;
        JsonElement firstRow = result.GetProperty("Outcome").GetProperty("Rows").EnumerateArray().First(r => r.GetProperty("Role").GetString() == firstRole);
        int[] rowIds = [.. firstRow.GetProperty("TokenIds").EnumerateArray().Select(x => x.GetInt32())];
        Assert.True(originalIds.Length <= rowIds.Length && Enumerable.Range(0, rowIds.Length - originalIds.Length + 1)
            .Any(s => rowIds.AsSpan(s, originalIds.Length).SequenceEqual(originalIds)), "the fork's first row does not contain the original turn's token ids");
        // The same seed gives the same fork.
        (_, string again) = await CliRunner.RunAsync(fork);
        Assert.Equal(
            string.Join("|", forkTurns.Select(t => t.GetProperty("Text").GetString())),
            string.Join("|", JsonDocument.Parse(again).RootElement.GetProperty("fork").GetProperty("Outcome").GetProperty("Transcript").EnumerateArray().Select(t => t.GetProperty("Text").GetString())));

        (int sideCode, string side) = await CliRunner.RunAsync(Args("replay", episodeId, "--keys", "n,f,q", "--seed", "7"));
        Assert.True(sideCode == 0, side);
        Assert.True(side.Contains("original", StringComparison.Ordinal) && side.Contains("fork T=1", StringComparison.Ordinal), side);

        (int badTurn, string badTurnText) = await CliRunner.RunAsync(Args("replay", episodeId, "--fork", "0"));
        Assert.Equal(2, badTurn);
        Assert.Contains("--fork 0 is outside the episode", badTurnText);
        (int badKey, string badKeyText) = await CliRunner.RunAsync(Args("replay", episodeId, "--keys", "n,x"));
        Assert.Equal(2, badKey);
        Assert.Contains("key 'x' is not a replay key", badKeyText);
        (int badId, string badIdText) = await CliRunner.RunAsync(Args("replay", "not-an-episode"));
        Assert.Equal(2, badId);
        Assert.Contains("is not one a campaign stores", badIdText);
        (int missing, string missingText) = await CliRunner.RunAsync(Args("replay", episodeId.Replace("-p", "-p9", StringComparison.Ordinal)));
        Assert.Equal(1, missing);
        Assert.Contains("is not stored", missingText);
    }
}

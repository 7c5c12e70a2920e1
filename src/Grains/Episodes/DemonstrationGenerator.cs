using ReMA.Abstractions.Policy;
using ReMA.Learner.Tokenization;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Episodes;

/// <summary>
/// Plays a demonstration's messages as if the roles had generated them, so that an <see cref="EpisodeRunner"/> turns
/// a demonstration into exactly the views and rows an RL episode of the same protocol produces (the SFT warm start
/// and RL then train on the same format). Each message ends with the turn-end token, or at the stop string where the
/// protocol stops (so [FINISH] is kept for the meta agent and dropped from a reasoner's text, as in sampling).
/// </summary>
public sealed class DemonstrationGenerator(Demonstration demonstration, Func<string, ChatTemplate> templates) : IRoleGenerator
{
    private readonly Dictionary<string, Queue<string>> _messages = demonstration.Turns
        .GroupBy(t => t.Role).ToDictionary(g => g.Key, g => new Queue<string>(g.Select(t => t.Text)));

    public ChatTemplate Template(string role) => templates(role);

    public Task<GenerateResponse> GenerateAsync(string role, int[] promptIds, SamplingSpec sampling)
    {
        if (!_messages.TryGetValue(role, out var queue) || queue.Count == 0)
        {
            throw new InvalidOperationException($"demonstration of {demonstration.Problem.Id} has no further '{role}' message for this protocol.");
        }
        ITokenizer tok = templates(role).Tokenizer;
        string text = queue.Dequeue();
        string? stop = sampling.StopStrings?.FirstOrDefault(s => text.Contains(s, StringComparison.Ordinal));
        int[] ids;
        string shown = text;
        string finish;
        if (stop is not null)
        {
            string upToStop = text[..(text.IndexOf(stop, StringComparison.Ordinal) + stop.Length)];
            ids = tok.Encode(upToStop);
            shown = sampling.IncludeStopString ? upToStop : upToStop[..^stop.Length];
            finish = "stop";
        }
        else
        {
            ids = [.. tok.Encode(text), tok.TurnEndId];
            finish = "eos";
        }
        return Task.FromResult(new GenerateResponse("", ids, [.. ids.Select(_ => float.NaN)], shown, finish, stop, promptIds.Length, 0, 0));
    }
}

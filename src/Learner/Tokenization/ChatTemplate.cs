namespace ReMA.Learner.Tokenization;

public sealed record ChatMessage(string Role, string Content)
{
    public static ChatMessage System(string content) => new("system", content);
    public static ChatMessage User(string content) => new("user", content);
    public static ChatMessage Assistant(string content) => new("assistant", content);
}

/// <summary>
/// ChatML rendering: &lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n per message, and &lt;|im_start|&gt;assistant\n as the generation prompt.
/// Rendering works on ids (special tokens are inserted as ids, never re-parsed from text).
/// </summary>
public sealed class ChatTemplate(ITokenizer tokenizer)
{
    private readonly int _imStart = tokenizer.SpecialTokens.TryGetValue(SpecialTokenNames.ImStart, out int s) ? s
        : throw new ArgumentException($"tokenizer lacks {SpecialTokenNames.ImStart}, which ChatML needs.");

    public ITokenizer Tokenizer => tokenizer;

    /// <summary>The token that ends a turn; the engine stops on it.</summary>
    public int TurnEndId => tokenizer.TurnEndId;

    public int[] Render(IEnumerable<ChatMessage> messages, bool addGenerationPrompt)
    {
        var ids = new List<int>();
        foreach (ChatMessage message in messages)
        {
            ids.Add(_imStart);
            ids.AddRange(tokenizer.Encode(message.Role + "\n" + message.Content));
            ids.Add(tokenizer.TurnEndId);
            ids.AddRange(tokenizer.Encode("\n"));
        }
        if (addGenerationPrompt)
        {
            ids.AddRange(GenerationPrompt("assistant"));
        }
        return [.. ids];
    }

    /// <summary>Ids that open a turn of <paramref name="role"/>.</summary>
    public int[] GenerationPrompt(string role) => [_imStart, .. tokenizer.Encode(role + "\n")];

    public string RenderText(IEnumerable<ChatMessage> messages, bool addGenerationPrompt) =>
        string.Concat(messages.Select(m => $"{SpecialTokenNames.ImStart}{m.Role}\n{m.Content}{SpecialTokenNames.ImEnd}\n"))
        + (addGenerationPrompt ? $"{SpecialTokenNames.ImStart}assistant\n" : "");
}

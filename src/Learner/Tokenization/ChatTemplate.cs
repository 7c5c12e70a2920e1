namespace ReMA.Learner.Tokenization;

public sealed record ChatMessage(string Role, string Content)
{
    public static ChatMessage System(string content) => new("system", content);
    public static ChatMessage User(string content) => new("user", content);
    public static ChatMessage Assistant(string content) => new("assistant", content);
}

/// <summary>
/// ChatML rendering: &lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n per message, and &lt;|im_start|&gt;assistant\n as the generation prompt;
/// or, where the tokenizer's <see cref="ITokenizer.ChatMarkup"/> is compact, &lt;|im_start|&gt; + the role's first letter +
/// content + &lt;|im_end|&gt; per message and &lt;|im_start|&gt;a as the generation prompt.
/// Rendering works on ids (special tokens are inserted as ids, never re-parsed from text).
/// </summary>
public sealed class ChatTemplate(ITokenizer tokenizer)
{
    private readonly int _imStart = tokenizer.SpecialTokens.TryGetValue(SpecialTokenNames.ImStart, out int s) ? s
        : throw new ArgumentException($"tokenizer lacks {SpecialTokenNames.ImStart}, which ChatML needs.");

    public ITokenizer Tokenizer => tokenizer;

    /// <summary>The token that ends a turn; the engine stops on it.</summary>
    public int TurnEndId => tokenizer.TurnEndId;

    /// <summary>The markup this template renders (the tokenizer's).</summary>
    public string Markup { get; } = tokenizer.ChatMarkup;

    private readonly bool _compact = tokenizer.ChatMarkup == ChatMarkups.Compact;

    /// <summary>What follows a message's end before the next message: a newline in ChatML, nothing in the compact markup.</summary>
    public int[] Separator { get; } = tokenizer.ChatMarkup == ChatMarkups.Compact ? [] : tokenizer.Encode("\n");

    public int[] Render(IEnumerable<ChatMessage> messages, bool addGenerationPrompt)
    {
        var ids = new List<int>();
        foreach (ChatMessage message in messages)
        {
            // One encode of header and content: a BPE tokenizer's ids for the two need not be the concatenation of each.
            ids.Add(_imStart);
            ids.AddRange(tokenizer.Encode(Header(message.Role) + message.Content));
            ids.Add(tokenizer.TurnEndId);
            ids.AddRange(Separator);
        }
        if (addGenerationPrompt)
        {
            ids.AddRange(GenerationPrompt("assistant"));
        }
        return [.. ids];
    }

    /// <summary>Ids that open a turn of <paramref name="role"/>.</summary>
    public int[] GenerationPrompt(string role) => [_imStart, .. tokenizer.Encode(Header(role))];

    /// <summary>What follows &lt;|im_start|&gt;: the role and a newline (ChatML), or the role's first letter (compact).</summary>
    private string Header(string role) => _compact
        ? (role.Length > 0 ? role[..1] : throw new ArgumentException("chat template: a message's role is empty."))
        : role + "\n";

    public string RenderText(IEnumerable<ChatMessage> messages, bool addGenerationPrompt) =>
        string.Concat(messages.Select(m => $"{SpecialTokenNames.ImStart}{Header(m.Role)}{m.Content}{SpecialTokenNames.ImEnd}{(_compact ? "" : "\n")}"))
        + (addGenerationPrompt ? $"{SpecialTokenNames.ImStart}{Header("assistant")}" : "");
}

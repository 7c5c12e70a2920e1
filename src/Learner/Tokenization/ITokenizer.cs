namespace ReMA.Learner.Tokenization;

/// <summary>
/// What the engine and the learner need from a tokenizer. Special tokens (&lt;|im_start|&gt;, &lt;|im_end|&gt;, &lt;|endoftext|&gt;)
/// written in text encode to their single ids.
/// </summary>
public interface ITokenizer
{
    int VocabSize { get; }
    IReadOnlyDictionary<string, int> SpecialTokens { get; }
    /// <summary>End of text; ends generation unless a request ignores EOS.</summary>
    int EosId { get; }
    /// <summary>End of a chat turn (&lt;|im_end|&gt;); also ends generation.</summary>
    int TurnEndId { get; }
    int[] Encode(string text);
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false);
    /// <summary>
    /// The UTF-8 bytes one token contributes to the text (a byte-level BPE token may hold part of a character). Ids past the
    /// tokenizer's table (a model's padded vocabulary) contribute nothing.
    /// </summary>
    ReadOnlySpan<byte> TokenBytes(int id);
    bool IsSpecial(int id);
    /// <summary>Writes the tokenizer's files into a model folder.</summary>
    void Save(string directory);
    /// <summary>The turn markup <see cref="ChatTemplate"/> renders for this tokenizer (<see cref="ChatMarkups"/>).</summary>
    string ChatMarkup => ChatMarkups.ChatMl;
}

/// <summary>
/// Turn markups. ChatML (&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n) is what pretrained chat models know. Compact
/// (&lt;|im_start|&gt; + the role's first letter + content + &lt;|im_end|&gt;, nothing between turns) is for character-level
/// models trained from scratch, where ChatML's role words and newlines cost 20 tokens a turn against 6.
/// </summary>
public static class ChatMarkups
{
    public const string ChatMl = "chatml";
    public const string Compact = "compact";
    public static IReadOnlyList<string> All { get; } = [ChatMl, Compact];

    /// <summary>Returns <paramref name="value"/> when it names a markup; otherwise an error naming <paramref name="field"/>.</summary>
    public static string Check(string value, string field) => All.Contains(value)
        ? value
        : throw new ArgumentException($"{field} is '{value}'; expected one of: {string.Join(", ", All)}.");
}

/// <summary>Special token strings shared by both tokenizers (ChatML).</summary>
public static class SpecialTokenNames
{
    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";
}

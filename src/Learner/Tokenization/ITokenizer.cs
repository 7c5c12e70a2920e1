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
}

/// <summary>Special token strings shared by both tokenizers (ChatML).</summary>
public static class SpecialTokenNames
{
    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";
}

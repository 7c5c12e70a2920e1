namespace ReMA.Learner.Tokenization;

public static class TokenizerLoader
{
    /// <summary>Loads the tokenizer saved in a model folder: tokenizer.json (byte-level BPE) or char_tokenizer.json.</summary>
    public static ITokenizer Load(string directory)
    {
        string bpe = Path.Combine(directory, ByteLevelBpeTokenizer.FileName);
        string chars = Path.Combine(directory, CharTokenizer.FileName);
        if (File.Exists(bpe))
        {
            return ByteLevelBpeTokenizer.Load(bpe);
        }
        if (File.Exists(chars))
        {
            return CharTokenizer.Load(chars);
        }
        throw new FileNotFoundException($"{directory}: no tokenizer found; expected {ByteLevelBpeTokenizer.FileName} (byte-level BPE) or {CharTokenizer.FileName}.", bpe);
    }
}

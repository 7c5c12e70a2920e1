using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReMA.Learner.Tokenization;

/// <summary>
/// A character-level tokenizer for nano models: ids 0..2 are &lt;|endoftext|&gt;, &lt;|im_start|&gt;, &lt;|im_end|&gt;, then one id
/// per character of the alphabet, then one id per word (optional multi-character tokens such as "[FINISH]" or
/// "\boxed{", matched longest first wherever they occur in the text; a protocol's fixed markers then cost one token,
/// as they do in a BPE vocabulary). Saved as char_tokenizer.json next to the model.
/// </summary>
public sealed class CharTokenizer : ITokenizer
{
    public const string FileName = "char_tokenizer.json";

    /// <summary>Printable ASCII plus newline: enough for arithmetic dialogues and role prompts.</summary>
    public static readonly string DefaultAlphabet =
        "\n" + new string(Enumerable.Range(32, 95).Select(c => (char)c).ToArray());

    private static readonly string[] Specials = [SpecialTokenNames.EndOfText, SpecialTokenNames.ImStart, SpecialTokenNames.ImEnd];

    private readonly string _alphabet;
    private readonly Dictionary<char, int> _ids = new();
    private readonly byte[][] _bytes;
    private readonly Dictionary<string, int> _special;
    private readonly string[] _words;
    /// <summary>Per first character: the words starting with it, longest first, with their ids.</summary>
    private readonly Dictionary<char, (string Word, int Id)[]> _wordsByFirst;

    /// <summary>The longest word a tokenizer accepts.</summary>
    public const int MaxWordLength = 32;

    /// <param name="alphabet">one id per character (default <see cref="DefaultAlphabet"/>)</param>
    /// <param name="chatMarkup">the turn markup (<see cref="ChatMarkups"/>)</param>
    /// <param name="words">multi-character tokens: 2..32 characters of the alphabet each, no whitespace, none repeated, none
    /// containing "&lt;|" (the special tokens' prefix)</param>
    public CharTokenizer(string? alphabet = null, string chatMarkup = ChatMarkups.ChatMl, IReadOnlyList<string>? words = null)
    {
        ChatMarkup = ChatMarkups.Check(chatMarkup, "char tokenizer: chat_markup");
        _alphabet = alphabet ?? DefaultAlphabet;
        _special = Specials.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i);
        _bytes = new byte[Specials.Length + _alphabet.Length][];
        for (int i = 0; i < Specials.Length; i++)
        {
            _bytes[i] = Encoding.UTF8.GetBytes(Specials[i]);
        }
        for (int i = 0; i < _alphabet.Length; i++)
        {
            char c = _alphabet[i];
            if (char.IsSurrogate(c) || !_ids.TryAdd(c, Specials.Length + i))
            {
                throw new ArgumentException($"alphabet: character U+{(int)c:X4} at index {i} is repeated or a surrogate; each character must appear once.");
            }
            _bytes[Specials.Length + i] = Encoding.UTF8.GetBytes(c.ToString());
        }
        _words = [.. words ?? []];
        for (int w = 0; w < _words.Length; w++)
        {
            string word = _words[w];
            string? problem = CheckWord(word, _ids) ?? (Array.IndexOf(_words, word) < w ? "is repeated" : null);
            if (problem is not null)
            {
                throw new ArgumentException($"words: '{word}' (index {w}) {problem}.");
            }
        }
        Array.Resize(ref _bytes, Specials.Length + _alphabet.Length + _words.Length);
        for (int w = 0; w < _words.Length; w++)
        {
            _bytes[Specials.Length + _alphabet.Length + w] = Encoding.UTF8.GetBytes(_words[w]);
        }
        _wordsByFirst = _words.Select((word, w) => (Word: word, Id: Specials.Length + _alphabet.Length + w))
            .GroupBy(p => p.Word[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Word.Length).ToArray());
    }

    /// <summary>Why <paramref name="word"/> cannot be a word of a tokenizer whose characters are <paramref name="ids"/>; null when it can.</summary>
    private static string? CheckWord(string? word, IReadOnlyDictionary<char, int> ids)
    {
        if (word is null || word.Length < 2 || word.Length > MaxWordLength)
        {
            return $"must have 2 to {MaxWordLength} characters";
        }
        if (word.Contains("<|", StringComparison.Ordinal) || word.EndsWith('<'))
        {
            return "must not contain '<|' or end in '<' (it would take the start of a special token)";
        }
        foreach (char c in word)
        {
            if (char.IsWhiteSpace(c))
            {
                return "must not contain whitespace";
            }
            if (!ids.ContainsKey(c))
            {
                return $"has character U+{(int)c:X4}, which is not in the tokenizer's alphabet";
            }
        }
        return null;
    }

    /// <summary>Words written as one setting: separated by spaces (null or blank: none).</summary>
    public static string[] ParseWords(string? spaceSeparated) =>
        spaceSeparated?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    public string Alphabet => _alphabet;
    /// <summary>How <see cref="ChatTemplate"/> marks up turns for this tokenizer (saved with it, so a checkpoint keeps its format).</summary>
    public string ChatMarkup { get; }
    /// <summary>The multi-character tokens, in id order (after the alphabet's).</summary>
    public IReadOnlyList<string> Words => _words;
    public int VocabSize => Specials.Length + _alphabet.Length + _words.Length;
    public IReadOnlyDictionary<string, int> SpecialTokens => _special;
    public int EosId => 0;
    public int TurnEndId => 2;

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '<' && TryMatchSpecial(text, i, out int id, out int length))
            {
                ids.Add(id);
                i += length - 1;
            }
            else if (_wordsByFirst.Count > 0 && TryMatchWord(text, i, out id, out length))
            {
                ids.Add(id);
                i += length - 1;
            }
            else if (_ids.TryGetValue(text[i], out int cid))
            {
                ids.Add(cid);
            }
            else
            {
                throw new ArgumentException($"text: character '{text[i]}' (U+{(int)text[i]:X4}) at position {i} is not in the tokenizer's alphabet.");
            }
        }
        return [.. ids];
    }

    private bool TryMatchWord(string text, int at, out int id, out int length)
    {
        if (_wordsByFirst.TryGetValue(text[at], out (string Word, int Id)[]? candidates))
        {
            foreach ((string word, int wordId) in candidates)
            {
                if (string.CompareOrdinal(text, at, word, 0, word.Length) == 0 && at + word.Length <= text.Length)
                {
                    id = wordId;
                    length = word.Length;
                    return true;
                }
            }
        }
        id = length = 0;
        return false;
    }

    private bool TryMatchSpecial(string text, int at, out int id, out int length)
    {
        foreach ((string token, int tokenId) in _special)
        {
            if (string.CompareOrdinal(text, at, token, 0, token.Length) == 0)
            {
                id = tokenId;
                length = token.Length;
                return true;
            }
        }
        id = length = 0;
        return false;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            if (id < 0 || id >= VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (0..{VocabSize - 1}).");
            }
            if (id < Specials.Length)
            {
                if (!skipSpecialTokens)
                {
                    sb.Append(Specials[id]);
                }
            }
            else if (id < Specials.Length + _alphabet.Length)
            {
                sb.Append(_alphabet[id - Specials.Length]);
            }
            else
            {
                sb.Append(_words[id - Specials.Length - _alphabet.Length]);
            }
        }
        return sb.ToString();
    }

    public ReadOnlySpan<byte> TokenBytes(int id) => (uint)id < (uint)_bytes.Length ? _bytes[id] : [];

    public bool IsSpecial(int id) => id >= 0 && id < Specials.Length;

    public void Save(string directory)
    {
        var json = new JsonObject
        {
            ["type"] = "char",
            ["special_tokens"] = new JsonArray(Specials.Select(s => (JsonNode)s).ToArray()),
            ["alphabet"] = _alphabet,
        };
        if (ChatMarkup != ChatMarkups.ChatMl)
        {
            json["chat_markup"] = ChatMarkup;   // absent means ChatML: files written before the field existed read as before
        }
        if (_words.Length > 0)
        {
            json["words"] = new JsonArray(_words.Select(w => (JsonNode)w).ToArray());   // absent means none
        }
        File.WriteAllText(Path.Combine(directory, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static CharTokenizer Load(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
        if (root?["type"]?.GetValue<string>() != "char" || root["alphabet"] is not JsonValue alphabet)
        {
            throw new InvalidDataException($"{path}: expected {{\"type\": \"char\", \"alphabet\": \"...\"}}.");
        }
        string[] specials = root["special_tokens"]?.AsArray().Select(n => n!.GetValue<string>()).ToArray() ?? [];
        if (!specials.SequenceEqual(Specials))
        {
            throw new InvalidDataException($"{path}: field 'special_tokens' must be [{string.Join(", ", Specials)}].");
        }
        string markup = ChatMarkups.ChatMl;
        if (root["chat_markup"] is JsonNode node)
        {
            markup = node is JsonValue v && v.TryGetValue(out string? text) ? text : "";
            if (!ChatMarkups.All.Contains(markup))
            {
                throw new InvalidDataException($"{path}: field 'chat_markup' is '{node.ToJsonString()}'; expected one of: {string.Join(", ", ChatMarkups.All)}.");
            }
        }
        var words = new List<string>();
        if (root["words"] is JsonNode wordsNode)
        {
            if (wordsNode is not JsonArray array || array.Any(n => n is not JsonValue v || !v.TryGetValue(out string? _)))
            {
                throw new InvalidDataException($"{path}: field 'words' is {wordsNode.ToJsonString()}; expected an array of strings.");
            }
            words.AddRange(array.Select(n => n!.GetValue<string>()));
        }
        try
        {
            return new CharTokenizer(alphabet.GetValue<string>(), markup, words);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}

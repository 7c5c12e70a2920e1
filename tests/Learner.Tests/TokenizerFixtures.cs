using System.Text.Json.Nodes;
using ReMA.Learner.Tokenization;

namespace ReMA.Learner.Tests;

/// <summary>Writes a small Qwen2-style byte-level BPE tokenizer.json by hand.</summary>
internal static class TokenizerFixtures
{
    public const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static readonly (string A, string B)[] Merges =
    [
        ("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("Ġ", "t"), ("Ġt", "he"), ("Ġ", "w"), ("o", "r"), ("Ġw", "or"),
    ];

    public static readonly string[] Specials = [SpecialTokenNames.EndOfText, SpecialTokenNames.ImStart, SpecialTokenNames.ImEnd];

    /// <summary>Vocabulary: the 256 byte characters (id = byte), then one id per merge, then the special tokens.</summary>
    public static Dictionary<string, int> Vocabulary()
    {
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++)
        {
            vocab[ByteLevelAlphabet.ToChar((byte)b).ToString()] = b;
        }
        foreach ((string a, string b) in Merges)
        {
            vocab[a + b] = vocab.Count;
        }
        return vocab;
    }

    public static int SpecialId(string token) => 256 + Merges.Length + Array.IndexOf(Specials, token);

    public static int VocabSize => 256 + Merges.Length + Specials.Length;

    public static string Write(string directory, bool pairMerges = false)
    {
        var vocab = new JsonObject();
        foreach ((string token, int id) in Vocabulary())
        {
            vocab[token] = id;
        }
        var merges = new JsonArray(Merges.Select(m => pairMerges ? (JsonNode)new JsonArray(m.A, m.B) : m.A + " " + m.B).ToArray());
        var added = new JsonArray(Specials.Select(s => (JsonNode)new JsonObject
        {
            ["id"] = SpecialId(s), ["content"] = s, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
        }).ToArray());
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Qwen2Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false }),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges, ["byte_fallback"] = false },
        };
        string path = Path.Combine(directory, ByteLevelBpeTokenizer.FileName);
        File.WriteAllText(path, root.ToJsonString());
        File.WriteAllText(Path.Combine(directory, ByteLevelBpeTokenizer.ConfigFileName),
            new JsonObject { ["eos_token"] = SpecialTokenNames.ImEnd, ["pad_token"] = SpecialTokenNames.EndOfText }.ToJsonString());
        return path;
    }
}

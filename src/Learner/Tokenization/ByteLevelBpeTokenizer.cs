using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace ReMA.Learner.Tokenization;

/// <summary>
/// Byte-level BPE (GPT-2/Qwen2 style) built from a Hugging Face tokenizer.json with Microsoft.ML.Tokenizers.
/// The file's vocabulary, merges, pre-tokenizer regex and added tokens are used as they are; the original
/// tokenizer.json (and tokenizer_config.json, if present) is written back unchanged on save.
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITokenizer
{
    public const string FileName = "tokenizer.json";
    public const string ConfigFileName = "tokenizer_config.json";

    /// <summary>GPT-2's split pattern, used when a ByteLevel pre-tokenizer has use_regex = true.</summary>
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, int> _special;
    private readonly HashSet<int> _specialIds;
    private readonly byte[][] _tokenBytes;
    private readonly string _json;
    private readonly string? _configJson;

    private ByteLevelBpeTokenizer(BpeTokenizer bpe, Dictionary<string, int> special, byte[][] tokenBytes, string json, string? configJson, int eos, int turnEnd)
    {
        _bpe = bpe;
        _special = special;
        _specialIds = [.. special.Values];
        _tokenBytes = tokenBytes;
        _json = json;
        _configJson = configJson;
        EosId = eos;
        TurnEndId = turnEnd;
    }

    public int VocabSize => _tokenBytes.Length;
    public IReadOnlyDictionary<string, int> SpecialTokens => _special;
    public int EosId { get; }
    public int TurnEndId { get; }

    public int[] Encode(string text) => [.. _bpe.EncodeToIds(text)];

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= _tokenBytes.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (0..{_tokenBytes.Length - 1}).");
            }
            if (!(skipSpecialTokens && _specialIds.Contains(id)))
            {
                bytes.AddRange(_tokenBytes[id]);
            }
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    public ReadOnlySpan<byte> TokenBytes(int id) => (uint)id < (uint)_tokenBytes.Length ? _tokenBytes[id] : [];

    public bool IsSpecial(int id) => _specialIds.Contains(id);

    public void Save(string directory)
    {
        File.WriteAllText(Path.Combine(directory, FileName), _json);
        if (_configJson is not null)
        {
            File.WriteAllText(Path.Combine(directory, ConfigFileName), _configJson);
        }
    }

    /// <summary>Loads tokenizer.json (and tokenizer_config.json beside it, for eos_token).</summary>
    public static ByteLevelBpeTokenizer Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: tokenizer file not found.", path);
        }
        string json = File.ReadAllText(path);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException("empty document");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a JSON object ({e.Message}).", e);
        }
        if (root["model"] is not JsonObject model || model["type"]?.GetValue<string>() != "BPE")
        {
            throw new InvalidDataException($"{path}: field 'model.type' must be \"BPE\" (byte-level BPE tokenizers only).");
        }
        if (model["vocab"] is not JsonObject vocabNode)
        {
            throw new InvalidDataException($"{path}: field 'model.vocab' must be an object mapping tokens to ids.");
        }
        var vocab = vocabNode.Select(kv => new KeyValuePair<string, int>(kv.Key, kv.Value!.GetValue<int>())).ToList();
        var merges = new List<string>();
        foreach (JsonNode? merge in model["merges"]?.AsArray() ?? [])
        {
            merges.Add(merge switch
            {
                JsonValue v => v.GetValue<string>(),
                JsonArray pair when pair.Count == 2 => pair[0]!.GetValue<string>() + " " + pair[1]!.GetValue<string>(),
                _ => throw new InvalidDataException($"{path}: each entry of 'model.merges' must be \"a b\" or [\"a\", \"b\"] (got {merge?.ToJsonString()})."),
            });
        }
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonNode? added in root["added_tokens"]?.AsArray() ?? [])
        {
            string content = added?["content"]?.GetValue<string>() ?? throw new InvalidDataException($"{path}: an entry of 'added_tokens' lacks 'content'.");
            int id = added["id"]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: added token '{content}' lacks 'id'.");
            special[content] = id;
        }

        string pattern = FindSplitPattern(root["pre_tokenizer"], path);
        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = special,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), special),
            ByteLevel = true,
        };
        BpeTokenizer bpe = BpeTokenizer.Create(options);

        int size = Math.Max(vocab.Count == 0 ? 0 : vocab.Max(kv => kv.Value), special.Count == 0 ? 0 : special.Values.Max()) + 1;
        var tokenBytes = new byte[size][];
        Array.Fill(tokenBytes, []);
        foreach ((string token, int id) in vocab)
        {
            tokenBytes[id] = ByteLevelAlphabet.ToBytes(token);
        }
        foreach ((string token, int id) in special)
        {
            tokenBytes[id] = Encoding.UTF8.GetBytes(token);
        }

        string configPath = Path.Combine(Path.GetDirectoryName(path) ?? ".", ConfigFileName);
        string? configJson = File.Exists(configPath) ? File.ReadAllText(configPath) : null;
        string? eosName = configJson is null ? null : ReadTokenName(JsonNode.Parse(configJson)?["eos_token"]);
        int Require(string name) => special.TryGetValue(name, out int id) ? id
            : throw new InvalidDataException($"{path}: special token '{name}' is missing from 'added_tokens'; ChatML needs {SpecialTokenNames.ImStart}, {SpecialTokenNames.ImEnd} and {SpecialTokenNames.EndOfText}.");
        int turnEnd = Require(SpecialTokenNames.ImEnd);
        Require(SpecialTokenNames.ImStart);
        int eos = eosName is not null && special.TryGetValue(eosName, out int e2) ? e2 : Require(SpecialTokenNames.EndOfText);
        return new ByteLevelBpeTokenizer(bpe, special, tokenBytes, json, configJson, eos, turnEnd);
    }

    private static string? ReadTokenName(JsonNode? node) => node switch
    {
        JsonValue v => v.GetValue<string>(),
        JsonObject o => o["content"]?.GetValue<string>(),
        _ => null,
    };

    private static string? SplitRegex(JsonNode split)
    {
        JsonNode? pattern = split["pattern"];
        return pattern?["Regex"]?.GetValue<string>();
    }

    /// <summary>The split regex: a Split pre-tokenizer's Regex pattern (Qwen2) or GPT-2's for a plain ByteLevel one.</summary>
    private static string FindSplitPattern(JsonNode? pre, string path)
    {
        if (pre is null)
        {
            return Gpt2Pattern;
        }
        string? type = pre["type"]?.GetValue<string>();
        switch (type)
        {
            case "Sequence":
                foreach (JsonNode? inner in pre["pretokenizers"]?.AsArray() ?? [])
                {
                    if (inner?["type"]?.GetValue<string>() == "Split" && SplitRegex(inner) is string regex)
                    {
                        return regex;
                    }
                }
                return Gpt2Pattern;
            case "Split" when SplitRegex(pre) is string single:
                return single;
            case "ByteLevel":
                return Gpt2Pattern;
            default:
                throw new InvalidDataException($"{path}: pre_tokenizer type '{type}' is not supported; expected ByteLevel, Split or a Sequence of them.");
        }
    }
}

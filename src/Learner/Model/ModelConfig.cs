using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReMA.Learner.Model;

/// <summary>
/// Architecture of a Llama/Qwen2-family decoder, read from and written to a Hugging Face style config.json.
/// Field names in the JSON are Hugging Face's; unknown fields are ignored.
/// </summary>
public sealed record ModelConfig
{
    public const string Qwen2Architecture = "Qwen2ForCausalLM";
    public const string LlamaArchitecture = "LlamaForCausalLM";

    public string Architecture { get; init; } = LlamaArchitecture;
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumLayers { get; init; }
    public int NumHeads { get; init; }
    public int NumKeyValueHeads { get; init; }
    /// <summary>Per-head size; Hugging Face default is hidden_size / num_attention_heads.</summary>
    public int HeadDim { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000.0;
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections (always on for Qwen2; Llama's attention_bias).</summary>
    public bool QkvBias { get; init; }
    /// <summary>Bias on the output projection (Llama's attention_bias; never for Qwen2).</summary>
    public bool OutputBias { get; init; }
    public bool MlpBias { get; init; }
    public string TorchDtype { get; init; } = "float32";
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }

    public int Groups => NumHeads / NumKeyValueHeads;

    /// <summary>Number of parameters the model holds (embeddings counted once when tied).</summary>
    public long ParameterCount()
    {
        long d = HiddenSize, q = (long)NumHeads * HeadDim, kv = (long)NumKeyValueHeads * HeadDim, f = IntermediateSize;
        long attn = d * q + (QkvBias ? q : 0) + 2 * (d * kv + (QkvBias ? kv : 0)) + q * d + (OutputBias ? d : 0);
        long mlp = 3 * d * f + (MlpBias ? 2 * f + d : 0);
        long layer = attn + mlp + 2 * d;
        return VocabSize * d * (TieWordEmbeddings ? 1 : 2) + NumLayers * layer + d;
    }

    /// <summary>Architecture fields (not dtype or token ids) that differ from <paramref name="other"/>, as "name a vs b".</summary>
    public IReadOnlyList<string> ArchitectureDifferences(ModelConfig other)
    {
        var diffs = new List<string>();
        void Check<T>(string name, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b))
            {
                diffs.Add($"{name} {a} vs {b}");
            }
        }
        Check("architectures", Architecture, other.Architecture);
        Check("vocab_size", VocabSize, other.VocabSize);
        Check("hidden_size", HiddenSize, other.HiddenSize);
        Check("intermediate_size", IntermediateSize, other.IntermediateSize);
        Check("num_hidden_layers", NumLayers, other.NumLayers);
        Check("num_attention_heads", NumHeads, other.NumHeads);
        Check("num_key_value_heads", NumKeyValueHeads, other.NumKeyValueHeads);
        Check("head_dim", HeadDim, other.HeadDim);
        Check("rope_theta", RopeTheta, other.RopeTheta);
        Check("rms_norm_eps", RmsNormEps, other.RmsNormEps);
        Check("tie_word_embeddings", TieWordEmbeddings, other.TieWordEmbeddings);
        Check("attention bias", QkvBias, other.QkvBias);
        return diffs;
    }

    public void Validate(string source = "config.json")
    {
        var errors = new List<string>();
        void Positive(string name, long value)
        {
            if (value <= 0)
            {
                errors.Add($"{name} must be a positive integer (got {value})");
            }
        }
        if (Architecture is not (Qwen2Architecture or LlamaArchitecture))
        {
            errors.Add($"architectures ['{Architecture}'] is not supported; expected {Qwen2Architecture} or {LlamaArchitecture}");
        }
        Positive("vocab_size", VocabSize);
        Positive("hidden_size", HiddenSize);
        Positive("intermediate_size", IntermediateSize);
        Positive("num_hidden_layers", NumLayers);
        Positive("num_attention_heads", NumHeads);
        Positive("num_key_value_heads", NumKeyValueHeads);
        Positive("head_dim", HeadDim);
        Positive("max_position_embeddings", MaxPositionEmbeddings);
        if (NumHeads > 0 && NumKeyValueHeads > 0 && NumHeads % NumKeyValueHeads != 0)
        {
            errors.Add($"num_attention_heads ({NumHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})");
        }
        if (HeadDim % 2 != 0)
        {
            errors.Add($"head_dim ({HeadDim}) must be even for rotary embeddings");
        }
        if (RopeTheta <= 0)
        {
            errors.Add($"rope_theta must be positive (got {RopeTheta})");
        }
        if (errors.Count > 0)
        {
            throw new InvalidDataException($"{source}: " + string.Join("; ", errors) + ".");
        }
    }

    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: model config not found; a model folder needs config.json.", path);
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
        if (root is not JsonObject obj)
        {
            throw new InvalidDataException($"{path}: expected a JSON object.");
        }
        return Parse(obj, path);
    }

    public static ModelConfig Parse(JsonObject obj, string source)
    {
        string arch = obj["architectures"] is JsonArray archs && archs.Count > 0 ? archs[0]!.GetValue<string>()
            : obj["model_type"]?.GetValue<string>() switch
            {
                "qwen2" => Qwen2Architecture,
                "llama" => LlamaArchitecture,
                string other => other,
                null => throw new InvalidDataException($"{source}: field 'architectures' is missing; expected [\"{Qwen2Architecture}\"] or [\"{LlamaArchitecture}\"]."),
            };
        int Int(string name, int? fallback = null)
        {
            JsonNode? node = obj[name];
            if (node is null)
            {
                return fallback ?? throw new InvalidDataException($"{source}: required field '{name}' is missing.");
            }
            try
            {
                return node.GetValue<int>();
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            {
                throw new InvalidDataException($"{source}: field '{name}' must be an integer (got {node.ToJsonString()}).", e);
            }
        }
        double Real(string name, double fallback)
        {
            JsonNode? node = obj[name];
            try
            {
                return node is null ? fallback : node.GetValue<double>();
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            {
                throw new InvalidDataException($"{source}: field '{name}' must be a number (got {node!.ToJsonString()}).", e);
            }
        }
        bool Bool(string name, bool fallback) => obj[name] is JsonNode n ? n.GetValue<bool>() : fallback;
        int? FirstInt(string name) => obj[name] switch
        {
            JsonArray a when a.Count > 0 => a[0]!.GetValue<int>(),
            JsonValue v => v.GetValue<int>(),
            _ => null,
        };

        if (obj["rope_scaling"] is JsonObject scaling)
        {
            string type = (scaling["rope_type"] ?? scaling["type"])?.GetValue<string>() ?? "unknown";
            if (type != "default")
            {
                throw new InvalidDataException($"{source}: rope_scaling type '{type}' is not supported; only plain rotary embeddings (no rope_scaling) are.");
            }
        }

        bool qwen = arch == Qwen2Architecture;
        bool attentionBias = Bool("attention_bias", false);
        int hidden = Int("hidden_size");
        int heads = Int("num_attention_heads");
        var config = new ModelConfig
        {
            Architecture = arch,
            VocabSize = Int("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = Int("intermediate_size"),
            NumLayers = Int("num_hidden_layers"),
            NumHeads = heads,
            NumKeyValueHeads = Int("num_key_value_heads", heads),
            HeadDim = Int("head_dim", heads > 0 ? hidden / heads : 0),
            MaxPositionEmbeddings = Int("max_position_embeddings", 2048),
            RmsNormEps = Real("rms_norm_eps", 1e-6),
            RopeTheta = Real("rope_theta", 10000.0),
            TieWordEmbeddings = Bool("tie_word_embeddings", false),
            QkvBias = qwen || attentionBias,
            OutputBias = !qwen && attentionBias,
            MlpBias = !qwen && Bool("mlp_bias", false),
            TorchDtype = obj["torch_dtype"]?.GetValue<string>() ?? obj["dtype"]?.GetValue<string>() ?? "float32",
            BosTokenId = FirstInt("bos_token_id"),
            EosTokenId = FirstInt("eos_token_id"),
        };
        config.Validate(source);
        return config;
    }

    public JsonObject ToJson()
    {
        bool qwen = Architecture == Qwen2Architecture;
        var obj = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = qwen ? "qwen2" : "llama",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumLayers,
            ["num_attention_heads"] = NumHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = TorchDtype,
        };
        if (!qwen)
        {
            obj["attention_bias"] = QkvBias;
            obj["mlp_bias"] = MlpBias;
        }
        if (BosTokenId is int bos)
        {
            obj["bos_token_id"] = bos;
        }
        if (EosTokenId is int eos)
        {
            obj["eos_token_id"] = eos;
        }
        return obj;
    }

    public void Save(string path) =>
        File.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}

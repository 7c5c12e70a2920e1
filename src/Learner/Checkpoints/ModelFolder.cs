using System.Text.Json;
using System.Text.Json.Nodes;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Learner.Checkpoints;

/// <summary>
/// A Hugging Face style model folder: config.json, model.safetensors (or model.safetensors.index.json + shards),
/// tokenizer files, generation_config.json. Loading is strict: every parameter must be present with its exact shape,
/// and no unknown tensor may be left over.
/// </summary>
public static class ModelFolder
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string GenerationConfigFile = "generation_config.json";

    /// <summary>Builds the model described by config.json and loads its weights.</summary>
    public static CausalLM LoadModel(string directory, Device? device = null, ScalarType? dtype = null)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"{directory}: model folder not found.");
        }
        ModelConfig config = ModelConfig.Load(Path.Combine(directory, ConfigFile));
        var model = new CausalLM(config, device, dtype);
        try
        {
            LoadWeights(model, directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>Loads weights into <paramref name="model"/> from a single file or a sharded index, strictly.</summary>
    public static void LoadWeights(CausalLM model, string directory)
    {
        string configPath = Path.Combine(directory, ConfigFile);
        if (File.Exists(configPath))
        {
            IReadOnlyList<string> diffs = ModelConfig.Load(configPath).ArchitectureDifferences(model.Config);
            if (diffs.Count > 0)
            {
                throw new InvalidDataException($"{configPath} describes another model than the one being loaded into ({string.Join(", ", diffs)}).");
            }
        }
        Dictionary<string, string> fileOf = WeightFiles(directory);
        var expected = model.state_dict();
        var headers = new Dictionary<string, (IReadOnlyDictionary<string, SafetensorsEntry> Entries, long Start)>();
        foreach (string file in fileOf.Values.Distinct())
        {
            var entries = Safetensors.ReadHeader(file, out long start);
            headers[file] = (entries, start);
        }
        var available = new Dictionary<string, (string File, SafetensorsEntry Entry)>(StringComparer.Ordinal);
        foreach ((string file, var header) in headers)
        {
            foreach ((string name, SafetensorsEntry entry) in header.Entries)
            {
                available[name] = (file, entry);
            }
        }

        var missing = expected.Keys.Where(k => !available.ContainsKey(k)).ToList();
        var unexpected = available.Keys.Where(k => !expected.ContainsKey(k) && !Ignorable(k, model.Config)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            string Show(List<string> names) => string.Join(", ", names.Take(5)) + (names.Count > 5 ? $" (+{names.Count - 5} more)" : "");
            var parts = new List<string>();
            if (missing.Count > 0)
            {
                parts.Add($"missing tensors: {Show(missing)}");
            }
            if (unexpected.Count > 0)
            {
                parts.Add($"unexpected tensors: {Show(unexpected)}");
            }
            throw new InvalidDataException($"{directory}: weights do not match config.json ({model.Config.Architecture}): {string.Join("; ", parts)}.");
        }

        foreach ((string name, Tensor target) in expected)
        {
            (string file, SafetensorsEntry entry) = available[name];
            if (!entry.Shape.SequenceEqual(target.shape))
            {
                throw new InvalidDataException(
                    $"{file}: tensor '{name}' has shape [{string.Join(", ", entry.Shape)}] but the model built from config.json expects [{string.Join(", ", target.shape)}].");
            }
        }
        // Read everything before touching the model, so a read error leaves the current weights intact.
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (string name in expected.Keys)
            {
                (string file, SafetensorsEntry entry) = available[name];
                values[name] = Safetensors.ReadTensor(file, entry, headers[file].Start).DetachFromDisposeScope();
            }
            using var noGrad = no_grad();
            foreach ((string name, Tensor target) in expected)
            {
                target.copy_(values[name]);
            }
        }
        finally
        {
            foreach (Tensor value in values.Values)
            {
                value.Dispose();
            }
        }
    }

    private static bool Ignorable(string name, ModelConfig config) =>
        name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || (config.TieWordEmbeddings && name == "lm_head.weight");

    /// <summary>Maps each tensor name to the file that holds it.</summary>
    private static Dictionary<string, string> WeightFiles(string directory)
    {
        string single = Path.Combine(directory, WeightsFile);
        string index = Path.Combine(directory, IndexFile);
        if (File.Exists(index))
        {
            JsonNode? root;
            try
            {
                root = JsonNode.Parse(File.ReadAllText(index));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{index}: not valid JSON ({e.Message}).", e);
            }
            if (root?["weight_map"] is not JsonObject map)
            {
                throw new InvalidDataException($"{index}: field 'weight_map' must map tensor names to shard files.");
            }
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach ((string name, JsonNode? shard) in map)
            {
                string shardName = shard?.GetValue<string>() ?? throw new InvalidDataException($"{index}: weight_map['{name}'] must be a file name.");
                result[name] = Path.Combine(directory, shardName);
            }
            foreach (string file in result.Values.Distinct())
            {
                if (!File.Exists(file))
                {
                    throw new FileNotFoundException($"{index}: shard '{Path.GetFileName(file)}' is listed in weight_map but not present.", file);
                }
            }
            return result;
        }
        if (File.Exists(single))
        {
            return new Dictionary<string, string> { ["*"] = single };
        }
        throw new FileNotFoundException($"{directory}: no weights found; expected {WeightsFile} or {IndexFile}.", single);
    }

    /// <summary>
    /// Writes config.json, the weights (sharded above <paramref name="maxShardBytes"/>), the tokenizer and generation_config.json.
    /// Each file is written to a temporary name and renamed into place.
    /// </summary>
    public static void Save(CausalLM model, string directory, ITokenizer? tokenizer = null, long maxShardBytes = 2L << 30)
    {
        Directory.CreateDirectory(directory);
        ModelConfig config = model.Config with { TorchDtype = Runtime.TorchDevice.DTypeName(model.DType) };
        if (tokenizer is not null)
        {
            config = config with { EosTokenId = tokenizer.EosId };
        }
        WriteAtomically(Path.Combine(directory, ConfigFile), config.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var tensors = model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long size = 0;
        foreach (var kv in tensors)
        {
            long bytes = kv.Value.NumberOfElements * kv.Value.ElementSize;
            if (size > 0 && size + bytes > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add(kv);
            size += bytes;
        }
        if (shards.Count == 1)
        {
            Safetensors.Write(Path.Combine(directory, WeightsFile), shards[0]);
            File.Delete(Path.Combine(directory, IndexFile));
        }
        else
        {
            var weightMap = new JsonObject();
            for (int i = 0; i < shards.Count; i++)
            {
                string name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                Safetensors.Write(Path.Combine(directory, name), shards[i]);
                foreach (var kv in shards[i])
                {
                    weightMap[kv.Key] = name;
                }
            }
            long total = tensors.Sum(kv => kv.Value.NumberOfElements * kv.Value.ElementSize);
            var indexJson = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
            WriteAtomically(Path.Combine(directory, IndexFile), indexJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.Delete(Path.Combine(directory, WeightsFile));
        }

        if (tokenizer is not null)
        {
            tokenizer.Save(directory);
            var generation = new JsonObject
            {
                ["eos_token_id"] = new JsonArray(tokenizer.TurnEndId, tokenizer.EosId),
                ["do_sample"] = true,
                ["temperature"] = 1.0,
                ["top_p"] = 1.0,
            };
            WriteAtomically(Path.Combine(directory, GenerationConfigFile), generation.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
    }

    private static void WriteAtomically(string path, string text)
    {
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}

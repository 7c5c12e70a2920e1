using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Learner.Training;

/// <summary>What a resumable trainer consists of: weights, optimizer moments and step, and its random generator.</summary>
public interface ITrainingState
{
    CausalLM Model { get; }
    AdamW Optimizer { get; }
    SplitMix64 Shuffle { get; }
}

/// <summary>
/// Checkpoints of a training run: one folder per step under a root, each a Hugging Face model folder plus
/// optimizer.safetensors (moments by parameter name) and trainer_state.json (optimizer steps = schedule position,
/// random generator state, caller's metadata). A folder is written under a temporary name and renamed when complete,
/// so a crash mid-write never leaves a folder that <see cref="Latest"/> would pick.
/// </summary>
public static class TrainingCheckpoint
{
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "trainer_state.json";
    private const string Prefix = "step-";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string FolderName(long step) => $"{Prefix}{step:D8}";

    public static string Save(string root, long step, ITrainingState state, ITokenizer? tokenizer = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(root);
        string final = Path.Combine(root, FolderName(step));
        string partial = final + ".partial-" + Guid.NewGuid().ToString("N");
        ModelFolder.Save(state.Model, partial, tokenizer);
        Safetensors.Write(Path.Combine(partial, OptimizerFile), state.Optimizer.StateTensors());
        var json = new JsonObject
        {
            ["step"] = step,
            ["optimizer_steps"] = state.Optimizer.Steps,
            ["shuffle_state"] = state.Shuffle.State.ToString(CultureInfo.InvariantCulture),
            ["saved_at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["metadata"] = new JsonObject((metadata ?? new Dictionary<string, string>()).Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
        };
        File.WriteAllText(Path.Combine(partial, StateFile), json.ToJsonString(Indented));
        if (Directory.Exists(final))
        {
            // Re-saving a step: move the old folder aside first, then remove it once the new one is in place.
            string old = final + ".old-" + Guid.NewGuid().ToString("N");
            Directory.Move(final, old);
            Directory.Move(partial, final);
            Directory.Delete(old, recursive: true);
        }
        else
        {
            Directory.Move(partial, final);
        }
        return final;
    }

    /// <summary>The caller's metadata saved with a checkpoint (empty when the folder has none or cannot be read).</summary>
    public static IReadOnlyDictionary<string, string> Metadata(string folder)
    {
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, StateFile)))?["metadata"] as JsonObject;
            return node?.Where(kv => kv.Value is JsonValue).ToDictionary(kv => kv.Key, kv => kv.Value!.ToString()) ?? [];
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return new Dictionary<string, string>();
        }
    }

    /// <summary>The complete checkpoint folder with the highest step under <paramref name="root"/>, or null.</summary>
    public static string? Latest(string root)
    {
        if (!Directory.Exists(root))
        {
            return null;
        }
        return Directory.GetDirectories(root)
            .Select(d => (Dir: d, Name: Path.GetFileName(d)))
            .Where(d => d.Name.StartsWith(Prefix, StringComparison.Ordinal) && long.TryParse(d.Name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .OrderByDescending(d => long.Parse(d.Name.AsSpan(Prefix.Length), CultureInfo.InvariantCulture))
            .Select(d => d.Dir)
            .FirstOrDefault();
    }

    /// <summary>Restores weights, optimizer state and generator into <paramref name="state"/>; returns the saved step and metadata.</summary>
    public static (long Step, IReadOnlyDictionary<string, string> Metadata) Load(string folder, ITrainingState state)
    {
        string statePath = Path.Combine(folder, StateFile);
        if (!File.Exists(statePath))
        {
            throw new FileNotFoundException($"{folder}: not a training checkpoint ({StateFile} is missing).", statePath);
        }
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(statePath)) ?? throw new InvalidDataException("empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{statePath}: not valid JSON ({e.Message}).", e);
        }
        long step = root["step"]?.GetValue<long>() ?? throw new InvalidDataException($"{statePath}: field 'step' is missing.");
        long optimizerSteps = root["optimizer_steps"]?.GetValue<long>() ?? throw new InvalidDataException($"{statePath}: field 'optimizer_steps' is missing.");
        if (!ulong.TryParse(root["shuffle_state"]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong shuffle))
        {
            throw new InvalidDataException($"{statePath}: field 'shuffle_state' must be an unsigned integer string.");
        }
        string optimizerPath = Path.Combine(folder, OptimizerFile);
        var header = Safetensors.ReadHeader(optimizerPath, out long start);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach ((string name, SafetensorsEntry entry) in header)
            {
                tensors[name] = Safetensors.ReadTensor(optimizerPath, entry, start).DetachFromDisposeScope();
            }
            ModelFolder.LoadWeights(state.Model, folder);
            state.Optimizer.LoadState(tensors, optimizerSteps, optimizerPath);
        }
        finally
        {
            foreach (Tensor t in tensors.Values)
            {
                t.Dispose();
            }
        }
        state.Shuffle.State = shuffle;
        var metadata = (root["metadata"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? "")
            ?? new Dictionary<string, string>();
        return (step, metadata);
    }
}

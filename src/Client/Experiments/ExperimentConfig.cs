using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ReMA.Abstractions.Campaigns;

namespace ReMA.Client.Experiments;

/// <summary>
/// An experiment (<c>rema experiment FILE</c>): several arms trained with equal budgets from shared starting points,
/// each under several seeds, evaluated on the same sets. Experiment files use snake_case names like campaign files.
/// </summary>
public sealed record ExperimentConfig
{
    /// <summary>Names the experiment's folder under runs/ and prefixes its campaigns.</summary>
    public string Name { get; init; } = "";

    /// <summary>The campaign preset every arm starts from (<c>rema train --preset</c> names).</summary>
    public string Base { get; init; } = CampaignPresets.ArithmeticDemo;

    /// <summary>Campaign settings changed for every arm (a partial campaign file merged onto the base).</summary>
    public JsonObject? Campaign { get; init; }

    /// <summary>One run of every arm per seed (the campaign's seed: rollout sampling, problem order, SFT batches).</summary>
    public List<long> Seeds { get; init; } = [1, 2, 3];

    public List<ArmSpec> Arms { get; init; } = [];

    /// <summary>What <c>--quick</c> changes: other seeds and campaign settings merged over the experiment's.</summary>
    public QuickSpec? Quick { get; init; }
}

/// <summary>One arm of an experiment.</summary>
public sealed record ArmSpec
{
    public string Name { get; init; } = "";

    /// <summary>rl (RL from the arm's SFT starting point) or sft (more SFT from that point instead: the compute control).</summary>
    public string Kind { get; init; } = "rl";

    /// <summary>Campaign settings of this arm (a partial campaign file merged over the experiment's).</summary>
    public JsonObject? Campaign { get; init; }

    /// <summary>For sft arms: optimizer steps of the extra SFT; 0 = as many as the RL stage of <see cref="ComputeOf"/> took in wall time.</summary>
    public int SftSteps { get; init; }

    /// <summary>For sft arms: the RL arm whose compute (RL-stage wall time, evaluation excluded, same seed) the extra SFT spends.</summary>
    public string? ComputeOf { get; init; }

    /// <summary>For sft arms: the learning rate of the extra SFT (constant); default the end of the warm start's cosine (a tenth of its peak).</summary>
    public double? SftLearningRate { get; init; }
}

public sealed record QuickSpec
{
    public List<long>? Seeds { get; init; }
    public JsonObject? Campaign { get; init; }
}

/// <summary>Reads experiment files (JSON, or YAML with .yaml/.yml) with errors that name the file and the field.</summary>
public static class ExperimentFile
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    public static ExperimentConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: experiment file not found.", path);
        }
        string text = File.ReadAllText(path);
        if (path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
        {
            text = CampaignFile.YamlToJson(text, path);
        }
        return Parse(text, path);
    }

    public static ExperimentConfig Parse(string json, string source) =>
        CampaignFile.Deserialize<ExperimentConfig>(json, source, Options, "the experiment settings");

    public static string Write(ExperimentConfig config) => JsonSerializer.Serialize(config, Options);
}

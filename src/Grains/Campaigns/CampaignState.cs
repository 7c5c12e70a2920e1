using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;

namespace ReMA.Grains.Campaigns;

/// <summary>A campaign's persisted progress: written after every unit of work.</summary>
[GenerateSerializer, Alias("rema.CampaignState")]
public sealed class CampaignState
{
    [Id(0)] public CampaignConfig? Config { get; set; }
    /// <summary>created, running, paused, completed, cancelled, failed.</summary>
    [Id(1)] public string Status { get; set; } = "created";
    /// <summary>sft, rl, done.</summary>
    [Id(2)] public string Stage { get; set; } = "sft";
    [Id(3)] public long NextStep { get; set; }
    [Id(4)] public List<StepRecord> History { get; set; } = [];
    [Id(5)] public List<EvalRecord> Evaluations { get; set; } = [];
    [Id(6)] public SftResult? Sft { get; set; }
    [Id(7)] public string? Error { get; set; }
    [Id(8)] public long EvaluatedAfter { get; set; } = -1;
    /// <summary>How many times the campaign has been activated (more than one: it survived losing an activation).</summary>
    [Id(9)] public int Activations { get; set; }
    /// <summary>Finished stages' wall and CPU time (the campaign's silo measures them; a follower may poll too rarely to see a short stage).</summary>
    [Id(10)] public List<StageUsage> Stages { get; set; } = [];
}

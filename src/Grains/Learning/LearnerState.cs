using ReMA.Abstractions.Learning;

namespace ReMA.Grains.Learning;

/// <summary>What survives a learner's deactivation: its setup, the version it published and the last step applied.</summary>
[GenerateSerializer, Alias("rema.LearnerState")]
public sealed class LearnerState
{
    [Id(0)] public LearnerSetup? Setup { get; set; }
    [Id(1)] public long Version { get; set; }
    [Id(2)] public long LastStep { get; set; } = -1;
    [Id(3)] public LearnerStepResult? LastResult { get; set; }
    [Id(4)] public string? LatestCheckpoint { get; set; }
    /// <summary>Where each published version's checkpoint can still be read (pruned local folders leave it).</summary>
    [Id(5)] public Dictionary<long, string> Checkpoints { get; set; } = [];
}

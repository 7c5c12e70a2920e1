using Orleans.Concurrency;

namespace ReMA.Abstractions.Policy;

/// <summary>The model a policy is built from: a named preset (seeded initialisation) or a Hugging Face style folder.</summary>
[GenerateSerializer, Immutable, Alias("rema.PolicyModel")]
public sealed record PolicyModel(
    string? Preset,
    string? Path,
    string Device = "cpu",
    string? DType = null,
    int Seed = 1,
    int MaxBatch = 64,
    int? MaxSequenceLength = null,
    string ChatMarkup = "chatml",
    string? TokenizerWords = null,
    int ComputeThreads = 0);

/// <summary>
/// Cluster-wide record of policies that campaigns create at run time (keyed by policy id). Policies named in a
/// silo's configuration (ReMA:Policies) do not need it; the configuration wins where both exist.
/// </summary>
[Alias("rema.IPolicyRegistryGrain")]
public interface IPolicyRegistryGrain : IGrainWithStringKey
{
    /// <summary>Registers the policy's model; registering a different model for an existing id is an error.</summary>
    [Alias("Register")]
    Task Register(PolicyModel model);

    [Alias("Get")]
    Task<PolicyModel?> Get();

    /// <summary>Records a live replica of the policy (grain key), so that learners publish new versions to it.</summary>
    [Alias("AddReplica")]
    Task AddReplica(string replicaKey);

    [Alias("RemoveReplica")]
    Task RemoveReplica(string replicaKey);

    /// <summary>The replicas recorded so far (some may live on silos that have since died: check before calling).</summary>
    [Alias("Replicas"), AlwaysInterleave]
    Task<string[]> Replicas();
}

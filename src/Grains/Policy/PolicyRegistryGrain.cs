using ReMA.Abstractions.Policy;

namespace ReMA.Grains.Policy;

[GenerateSerializer, Alias("rema.PolicyRegistryState")]
public sealed class PolicyRegistryState
{
    [Id(0)] public PolicyModel? Model { get; set; }
    [Id(1)] public List<string> Replicas { get; set; } = [];
}

/// <summary>Holds the model of one run-time policy, persisted so that any silo can build its replicas and learner later.</summary>
public sealed class PolicyRegistryGrain([PersistentState("policy-registry")] IPersistentState<PolicyRegistryState> state) : Grain, IPolicyRegistryGrain
{
    async Task IPolicyRegistryGrain.Register(PolicyModel model)
    {
        if (state.State.Model is PolicyModel existing)
        {
            if (existing != model)
            {
                throw new InvalidOperationException($"policy '{this.GetPrimaryKeyString()}' is already registered with another model ({existing}); use a new policy id.");
            }
            return;
        }
        if ((model.Preset is null) == (model.Path is null))
        {
            throw new ArgumentException($"policy '{this.GetPrimaryKeyString()}': give exactly one of preset and path.");
        }
        state.State.Model = model;
        await state.WriteStateAsync();
    }

    Task<PolicyModel?> IPolicyRegistryGrain.Get() => Task.FromResult(state.State.Model);

    async Task IPolicyRegistryGrain.AddReplica(string replicaKey)
    {
        if (PolicyKey.PolicyId(replicaKey) != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"replica '{replicaKey}' does not belong to policy '{this.GetPrimaryKeyString()}'.");
        }
        if (!state.State.Replicas.Contains(replicaKey))
        {
            state.State.Replicas.Add(replicaKey);
            await state.WriteStateAsync();
        }
    }

    async Task IPolicyRegistryGrain.RemoveReplica(string replicaKey)
    {
        if (state.State.Replicas.Remove(replicaKey))
        {
            await state.WriteStateAsync();
        }
    }

    Task<string[]> IPolicyRegistryGrain.Replicas() => Task.FromResult(state.State.Replicas.ToArray());
}

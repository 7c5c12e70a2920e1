using ReMA.Abstractions.Policy;

namespace ReMA.Grains.Policy;

[GenerateSerializer, Alias("rema.PolicyRegistryState")]
public sealed class PolicyRegistryState
{
    [Id(0)] public PolicyModel? Model { get; set; }
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
}

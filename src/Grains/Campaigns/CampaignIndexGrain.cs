using ReMA.Abstractions.Campaigns;

namespace ReMA.Grains.Campaigns;

/// <summary>Persistent list of the campaigns started on this cluster (in start order).</summary>
[GenerateSerializer, Alias("rema.CampaignIndexState")]
public sealed class CampaignIndexState
{
    [Id(0)] public List<string> Names { get; set; } = [];
}

public sealed class CampaignIndexGrain([PersistentState("campaign-index")] IPersistentState<CampaignIndexState> state) : Grain, ICampaignIndexGrain
{
    async Task ICampaignIndexGrain.Add(string name)
    {
        if (!state.State.Names.Contains(name))
        {
            state.State.Names.Add(name);
            await state.WriteStateAsync();
        }
    }

    Task<string[]> ICampaignIndexGrain.List() => Task.FromResult(state.State.Names.ToArray());
}

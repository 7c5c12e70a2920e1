using Microsoft.Extensions.Options;
using ReMA.Abstractions.Policy;

namespace ReMA.Grains.Policy;

/// <summary>Finds a policy's model: the silo configuration first, then the cluster-wide registry that campaigns fill.</summary>
public sealed class PolicySources(IOptions<PolicyCatalogOptions> catalog, IGrainFactory grains)
{
    public async Task<PolicySource> ResolveAsync(string grainKey)
    {
        string id = PolicyKey.PolicyId(grainKey);
        if (catalog.Value.Policies.TryGetValue(id, out PolicySource? configured))
        {
            return configured;
        }
        PolicyModel? model = await grains.GetGrain<IPolicyRegistryGrain>(id).Get();
        if (model is null)
        {
            string known = catalog.Value.Policies.Count == 0 ? "none are configured" : "configured: " + string.Join(", ", catalog.Value.Policies.Keys.Order());
            throw new InvalidOperationException($"policy '{id}' is not configured under ReMA:Policies ({known}) and no campaign registered it.");
        }
        return new PolicySource
        {
            Preset = model.Preset ?? "nano", ModelPath = model.Path, Device = model.Device, DType = model.DType,
            Seed = model.Seed, MaxBatch = model.MaxBatch, MaxSequenceLength = model.MaxSequenceLength, ChatMarkup = model.ChatMarkup ?? "chatml",   // registrations saved before the field read back null
            TokenizerWords = model.TokenizerWords, ComputeThreads = model.ComputeThreads,
        };
    }
}

using ReMA.Abstractions.Policy;
using ReMA.Learner.Tokenization;

namespace ReMA.Grains.Episodes;

/// <summary>Roles played by policy grains: each role's requests go to its policy replica and join its batch.</summary>
public sealed class PolicyRoleGenerator(IGrainFactory grains, IReadOnlyDictionary<string, string> policyByRole, IReadOnlyDictionary<string, ChatTemplate> templates) : IRoleGenerator
{
    private int _requests;

    public ChatTemplate Template(string role) => templates.TryGetValue(role, out ChatTemplate? t) ? t : throw new ArgumentException($"no chat template for role '{role}'.");

    public Task<GenerateResponse> GenerateAsync(string role, int[] promptIds, SamplingSpec sampling) =>
        grains.GetGrain<IPolicyGrain>(Key(role)).Generate(new GenerateRequest($"{role}-{Interlocked.Increment(ref _requests)}", promptIds, sampling));

    private string Key(string role) => policyByRole.TryGetValue(role, out string? key) ? key
        : throw new ArgumentException($"no policy plays role '{role}' (configured: {string.Join(", ", policyByRole.Keys)}).");
}

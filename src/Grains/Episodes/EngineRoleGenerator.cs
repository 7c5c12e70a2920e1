using ReMA.Abstractions.Policy;
using ReMA.Learner.Generation;
using ReMA.Learner.Tokenization;

namespace ReMA.Grains.Episodes;

/// <summary>
/// Roles served by generation engines in this process (no grains): one engine for both roles (shared parameters) or
/// one per role. Used where episodes run next to their model: tests, benchmarks of the engine without Orleans.
/// </summary>
public sealed class EngineRoleGenerator(IReadOnlyDictionary<string, (GenerationEngine Engine, ChatTemplate Template)> byRole) : IRoleGenerator
{
    public static EngineRoleGenerator Shared(GenerationEngine engine, ChatTemplate template, params string[] roles) =>
        new(roles.ToDictionary(r => r, _ => (engine, template)));

    public ChatTemplate Template(string role) => Lookup(role).Template;

    public async Task<GenerateResponse> GenerateAsync(string role, int[] promptIds, SamplingSpec sampling)
    {
        GenerationResult r = await Lookup(role).Engine.GenerateAsync(new GenerationRequest(promptIds, PolicySampling.ToEngine(sampling)));
        return PolicySampling.ToResponse("", r);
    }

    private (GenerationEngine Engine, ChatTemplate Template) Lookup(string role) =>
        byRole.TryGetValue(role, out var entry) ? entry : throw new ArgumentException($"no engine serves role '{role}'.");
}

/// <summary>Conversions between the grain messages and the engine's records.</summary>
public static class PolicySampling
{
    public static SamplingParams ToEngine(SamplingSpec s) => new()
    {
        Temperature = s.Temperature,
        TopP = s.TopP,
        TopK = s.TopK,
        MaxNewTokens = s.MaxNewTokens,
        Seed = s.Seed,
        StopStrings = s.StopStrings ?? [],
        IncludeStopString = s.IncludeStopString,
        IgnoreEos = s.IgnoreEos,
    };

    public static GenerateResponse ToResponse(string requestId, GenerationResult r) =>
        new(requestId, r.TokenIds, r.LogProbs, r.Text, r.FinishReason.ToString().ToLowerInvariant(), r.StopString, r.PromptTokens,
            r.PolicyVersion, r.LastPolicyVersion);
}

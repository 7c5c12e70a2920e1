using ReMA.Abstractions.Policy;
using ReMA.Learner.Tokenization;

namespace ReMA.Grains.Episodes;

/// <summary>Where an episode's roles get their words: the chat template of each role's policy, and generation.</summary>
public interface IRoleGenerator
{
    ChatTemplate Template(string role);
    Task<GenerateResponse> GenerateAsync(string role, int[] promptIds, SamplingSpec sampling);
}

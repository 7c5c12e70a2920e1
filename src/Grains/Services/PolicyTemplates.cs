using System.Collections.Concurrent;
using ReMA.Grains.Policy;
using ReMA.Learner.Tokenization;

namespace ReMA.Grains.Services;

/// <summary>The chat template (tokenizer) of each configured policy, loaded once per silo for the agents' views.</summary>
public sealed class PolicyTemplates(PolicySources sources)
{
    private readonly ConcurrentDictionary<string, ChatTemplate> _templates = new(StringComparer.Ordinal);

    public async Task<ChatTemplate> ForAsync(string policyKey)
    {
        string id = PolicyKey.PolicyId(policyKey);
        if (_templates.TryGetValue(id, out ChatTemplate? known))
        {
            return known;
        }
        PolicySource source = await sources.ResolveAsync(id);
        return _templates.GetOrAdd(id, _ => new ChatTemplate(source.ModelPath is string path ? TokenizerLoader.Load(path) : new CharTokenizer(chatMarkup: source.ChatMarkup, words: CharTokenizer.ParseWords(source.TokenizerWords))));
    }
}

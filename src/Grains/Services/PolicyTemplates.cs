using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using ReMA.Grains.Policy;
using ReMA.Learner.Tokenization;

namespace ReMA.Grains.Services;

/// <summary>The chat template (tokenizer) of each configured policy, loaded once per silo for the agents' views.</summary>
public sealed class PolicyTemplates(IOptions<PolicyCatalogOptions> catalog)
{
    private readonly ConcurrentDictionary<string, ChatTemplate> _templates = new(StringComparer.Ordinal);

    public ChatTemplate For(string policyKey)
    {
        string id = PolicyKey.PolicyId(policyKey);
        return _templates.GetOrAdd(id, _ =>
        {
            PolicySource source = catalog.Value.Resolve(id);
            return new ChatTemplate(source.ModelPath is string path ? TokenizerLoader.Load(path) : new CharTokenizer());
        });
    }
}

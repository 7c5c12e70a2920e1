using ReMA.Learner.Checkpoints;
using ReMA.Learner.Model;
using ReMA.Learner.Runtime;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Grains.Policy;

/// <summary>Builds a policy's model and tokenizer from its <see cref="PolicySource"/> (runs off the Orleans scheduler).</summary>
public static class PolicyModelLoader
{
    public static (CausalLM Model, ITokenizer Tokenizer) Load(PolicySource source)
    {
        Device device = TorchDevice.Resolve(source.Device);
        ScalarType? dtype = source.DType is null ? null : TorchDevice.ResolveDType(source.DType);
        if (source.ModelPath is string path)
        {
            ITokenizer folderTokenizer = TokenizerLoader.Load(path);
            CausalLM loaded = ModelFolder.LoadModel(path, device, dtype);
            loaded.eval();
            return (loaded, folderTokenizer);
        }
        var tokenizer = new CharTokenizer(chatMarkup: source.ChatMarkup, words: CharTokenizer.ParseWords(source.TokenizerWords));
        var model = new CausalLM(ModelPresets.Get(source.Preset, tokenizer.VocabSize), device, dtype, seed: source.Seed);
        model.eval();
        return (model, tokenizer);
    }
}

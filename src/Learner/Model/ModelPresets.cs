namespace ReMA.Learner.Model;

/// <summary>
/// Named architectures. "nano" models train on 2 CPU cores in minutes; "stories15m" is the benchmark size
/// (the shape of the well-known 15M-parameter Llama trained on TinyStories).
/// </summary>
public static class ModelPresets
{
    public static IReadOnlyList<string> Names { get; } = ["nano", "nano-qwen2", "micro", "stories15m"];

    /// <summary>Builds a preset; <paramref name="vocabSize"/> overrides the preset's vocabulary (nano models take it from the tokenizer).</summary>
    public static ModelConfig Get(string name, int? vocabSize = null) => name switch
    {
        // 0.42M parameters with a ~64-symbol character vocabulary: the size the learnability prototype used.
        "nano" => new ModelConfig
        {
            Architecture = ModelConfig.LlamaArchitecture, VocabSize = vocabSize ?? 64, HiddenSize = 128, IntermediateSize = 256,
            NumLayers = 2, NumHeads = 4, NumKeyValueHeads = 4, HeadDim = 32, MaxPositionEmbeddings = 512,
            RmsNormEps = 1e-5, RopeTheta = 10000, TieWordEmbeddings = true,
        },
        // Same size with the Qwen2 details switched on: q/k/v bias and grouped-query attention.
        "nano-qwen2" => new ModelConfig
        {
            Architecture = ModelConfig.Qwen2Architecture, VocabSize = vocabSize ?? 64, HiddenSize = 128, IntermediateSize = 256,
            NumLayers = 2, NumHeads = 4, NumKeyValueHeads = 2, HeadDim = 32, MaxPositionEmbeddings = 512,
            RmsNormEps = 1e-6, RopeTheta = 1_000_000, TieWordEmbeddings = true, QkvBias = true,
        },
        "micro" => new ModelConfig
        {
            Architecture = ModelConfig.LlamaArchitecture, VocabSize = vocabSize ?? 64, HiddenSize = 256, IntermediateSize = 688,
            NumLayers = 4, NumHeads = 8, NumKeyValueHeads = 4, HeadDim = 32, MaxPositionEmbeddings = 1024,
            RmsNormEps = 1e-5, RopeTheta = 10000, TieWordEmbeddings = true,
        },
        "stories15m" => new ModelConfig
        {
            Architecture = ModelConfig.LlamaArchitecture, VocabSize = vocabSize ?? 32000, HiddenSize = 288, IntermediateSize = 768,
            NumLayers = 6, NumHeads = 6, NumKeyValueHeads = 6, HeadDim = 48, MaxPositionEmbeddings = 256,
            RmsNormEps = 1e-5, RopeTheta = 10000, TieWordEmbeddings = true,
        },
        _ => throw new ArgumentException($"model preset '{name}' is not known; expected one of: {string.Join(", ", Names)}."),
    };
}

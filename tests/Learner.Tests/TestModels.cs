using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests;

/// <summary>Tiny randomly initialised models built inside the tests.</summary>
internal static class TestModels
{
    public static readonly CharTokenizer Chars = new();

    public static CausalLM Tiny(string preset = "nano-qwen2", int seed = 1, ScalarType dtype = ScalarType.Float32, int? vocab = null)
    {
        ModelConfig config = ModelPresets.Get(preset, vocab ?? Chars.VocabSize) with { HiddenSize = 64, IntermediateSize = 128, HeadDim = 16 };
        var model = new CausalLM(config, CPU, dtype, seed);
        model.eval();
        return model;
    }

    /// <summary>The same tokens for every request and log-probs within <paramref name="tolerance"/>.</summary>
    public static void AssertSameGenerations(Generation.GenerationResult[] expected, Generation.GenerationResult[] actual, float tolerance = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].TokenIds, actual[i].TokenIds);
            for (int j = 0; j < expected[i].LogProbs.Length; j++)
            {
                Assert.InRange(actual[i].LogProbs[j] - expected[i].LogProbs[j], -tolerance, tolerance);
            }
        }
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

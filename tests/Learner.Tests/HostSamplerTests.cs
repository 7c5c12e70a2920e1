using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests;

/// <summary>The engine's host sampler (logits by column, sampled in C#) against the torch computations it replaces.</summary>
public class HostSamplerTests
{
    [Theory]
    [InlineData(100)]
    [InlineData(1100)]   // several partial sums of the inverse-CDF walk, the last one short
    public void HostSampler_ChoosesWhatTheTorchSamplerChooses(int vocab)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        // 13 rows (not a multiple of the vector width) mixing greedy, two temperatures, top-k and top-p.
        SamplingParams[] kinds =
        [
            new() { Temperature = 0 }, new() { Temperature = 1f }, new() { Temperature = 0.7f },
            new() { Temperature = 1.3f, TopK = 5 }, new() { Temperature = 1f, TopP = 0.9f },
        ];
        var sampling = Enumerable.Range(0, 13).Select(i => kinds[i % kinds.Length]).ToList();
        Tensor logits = randn(13, vocab) * 3;
        for (int draw = 0; draw < 5; draw++)
        {
            var torchRngs = Enumerable.Range(0, 13).Select(i => new SplitMix64((ulong)(draw * 100 + i))).ToList();
            var hostRngs = Enumerable.Range(0, 13).Select(i => new SplitMix64((ulong)(draw * 100 + i))).ToList();
            TokenSampler.Choice[] expected = TokenSampler.Sample(logits, sampling, torchRngs);
            TokenSampler.Choice[] actual = HostSampler.Sample(logits.t().contiguous(), sampling, hostRngs);
            for (int i = 0; i < 13; i++)
            {
                Assert.Equal(expected[i].Token, actual[i].Token);
                Assert.InRange(actual[i].LogProb - expected[i].LogProb, -1e-5f, 1e-5f);
            }
        }
    }

    [Fact]
    public void Engine_HostAndTorchSamplingGenerateTheSameTokensAndLogProbs()
    {
        using CausalLM model = TestModels.Tiny(preset: "nano-qwen2");   // grouped-query attention with q/k/v bias
        CharTokenizer tok = TestModels.Chars;
        var requests = new[] { "3+4*2=", "a", "(1+2)*(3+4)-5 = ", "Plan: add" }
            .SelectMany((p, i) => new[]
            {
                new GenerationRequest(tok.Encode(p), new SamplingParams { Temperature = 0, MaxNewTokens = 30, IgnoreEos = true }),
                new GenerationRequest(tok.Encode(p), new SamplingParams { Temperature = 0.8f, MaxNewTokens = 30, Seed = (ulong)i, IgnoreEos = true }),
            }).ToList();
        using var host = new ContinuousBatcher(model, tok, new EngineOptions { SampleOnHost = true });
        using var torchPath = new ContinuousBatcher(model, tok, new EngineOptions { SampleOnHost = false });
        GenerationResult[] b = torchPath.Generate(requests);
        TestModels.AssertSameGenerations(b, host.Generate(requests));
        // A single sequence takes the one-row path of the vocabulary projection.
        GenerationResult alone = host.Generate([requests[2]])[0];
        Assert.Equal(b[2].TokenIds, alone.TokenIds);
    }
}

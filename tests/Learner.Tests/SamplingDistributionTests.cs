using ReMA.Learner.Generation;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests;

/// <summary>
/// Sampling draws from the distribution whose log-probabilities it records: on a fixed logit vector, the frequencies
/// of many seeded draws match softmax(logits / T), and each draw's recorded log-prob is log softmax(logits / T) of the
/// token drawn. The RL ratio assumes both; a sampler that drew from one distribution and reported another would bias
/// every update without failing any other test.
/// </summary>
public class SamplingDistributionTests
{
    private static readonly float[] Logits = [2.0f, 1.0f, 0.5f, 0.0f, -0.5f, -1.0f, 1.5f, -3.0f, 0.25f, 0.75f, -2.0f, 0.1f, 1.2f, -0.2f, 0.6f, -1.5f];
    private const int Draws = 40_000;

    private static double[] Softmax(float temperature)
    {
        double max = Logits.Max() / temperature;
        double[] e = Logits.Select(l => Math.Exp(l / temperature - max)).ToArray();
        double sum = e.Sum();
        return e.Select(x => x / sum).ToArray();
    }

    private static void AssertMatches(Func<int, TokenSampler.Choice> draw, float temperature, string sampler)
    {
        double[] p = Softmax(temperature);
        var counts = new int[Logits.Length];
        for (int i = 0; i < Draws; i++)
        {
            TokenSampler.Choice c = draw(i);
            counts[c.Token]++;
            Assert.True(Math.Abs(c.LogProb - Math.Log(p[c.Token])) < 1e-4, $"{sampler}, T={temperature}: token {c.Token} recorded log-prob {c.LogProb}, softmax gives {Math.Log(p[c.Token])}");
        }
        double chi2 = 0;
        for (int k = 0; k < Logits.Length; k++)
        {
            double expected = p[k] * Draws;
            chi2 += (counts[k] - expected) * (counts[k] - expected) / expected;
            // Each frequency within 5 standard deviations of its expectation.
            Assert.True(Math.Abs(counts[k] - expected) < 5 * Math.Sqrt(expected * (1 - p[k])) + 1,
                $"{sampler}, T={temperature}: token {k} drawn {counts[k]} times, expected {expected:F0}");
        }
        // 15 degrees of freedom: P(chi2 > 45) < 1e-4 for a sampler that draws from p.
        Assert.True(chi2 < 45, $"{sampler}, T={temperature}: chi-square {chi2:F1} over {Logits.Length - 1} degrees of freedom");
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.7f)]
    [InlineData(1.5f)]
    public void TorchAndHostSamplers_DrawFromTheSoftmaxTheyRecord(float temperature)
    {
        using var scope = NewDisposeScope();
        Tensor logits = tensor(Logits).reshape(1, Logits.Length);
        Tensor byColumn = logits.t().contiguous();
        var sampling = new[] { new SamplingParams { Temperature = temperature } };
        AssertMatches(i => TokenSampler.Sample(logits, sampling, [new SplitMix64((ulong)i * 7919 + 1)])[0], temperature, "torch sampler");
        AssertMatches(i => HostSampler.Sample(byColumn, sampling, [new SplitMix64((ulong)i * 7919 + 1)])[0], temperature, "host sampler");
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.7f)]
    public void DecodeKernelSampler_DrawsFromTheSoftmaxItRecords(float temperature)
    {
        if (!VocabSampler.Supported)
        {
            return;   // the engine uses the host sampler where the kernel cannot run (tested above)
        }
        using var scope = NewDisposeScope();
        // Output weight and hidden state whose product is the fixed logit vector: W = [logits, 0, ...], h = [1, 0, ...].
        int dim = 16;
        Tensor weight = zeros(Logits.Length, dim);
        weight[TensorIndex.Colon, 0] = tensor(Logits);
        Tensor hidden = zeros(1, dim);
        hidden[0, 0] = tensor(1f);
        using var sampler = new VocabSampler();
        var sampling = new[] { new SamplingParams { Temperature = temperature } };
        AssertMatches(i => sampler.Sample(weight, hidden, sampling, [new SplitMix64((ulong)i * 7919 + 1)])[0], temperature, "decode-kernel sampler");
    }
}

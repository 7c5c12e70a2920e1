using System.Collections.Concurrent;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Runtime;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests;

/// <summary>C# kernels on libtorch's OpenMP threads: the runner itself, and decode attention against SDPA.</summary>
public class DecodeKernelTests
{
    private sealed class Recorder : TorchThreads.Body
    {
        public readonly ConcurrentBag<(int Part, int Parts, int Thread)> Seen = [];
        public int ThrowOnPart = -1;

        public override void Run(int part, int parts)
        {
            Seen.Add((part, parts, Environment.CurrentManagedThreadId));
            if (part == ThrowOnPart)
            {
                throw new InvalidOperationException($"part {part} failed on purpose");
            }
        }
    }

    [Fact]
    public void TorchThreads_AreFoundOnLinux_RunEveryPartOnce_AndRethrowOnTheCaller()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;   // the runner looks libgomp up in /proc/self/maps; elsewhere the engine keeps the torch path
        }
        Assert.True(TorchThreads.Available, TorchThreads.UnavailableReason);
        int threads = Math.Max(2, get_num_threads());
        var recorder = new Recorder();
        for (int round = 0; round < 3; round++)
        {
            TorchThreads.Run(recorder, threads);
        }
        var parts = recorder.Seen.ToList();
        int team = parts[0].Parts;
        Assert.InRange(team, 1, threads);
        Assert.Equal(3 * team, parts.Count);
        Assert.All(parts, p => Assert.Equal(team, p.Parts));
        for (int part = 0; part < team; part++)
        {
            Assert.Equal(3, parts.Count(p => p.Part == part));
        }
        int caller = Environment.CurrentManagedThreadId;
        Assert.All(parts.Where(p => p.Part == 0), p => Assert.Equal(caller, p.Thread));   // the caller is thread 0

        var failing = new Recorder { ThrowOnPart = team - 1 };
        var error = Assert.Throws<InvalidOperationException>(() => TorchThreads.Run(failing, threads));
        Assert.Contains($"part {team - 1} failed on purpose", error.Message);
        TorchThreads.Run(new Recorder(), threads);   // still usable afterwards
    }

    [Theory]
    [InlineData(4, 4, 48)]    // one query head per key/value head, head size a multiple of 16
    [InlineData(6, 2, 20)]    // grouped-query attention, head size with a scalar tail
    public void DecodeAttention_MatchesSdpaOverTheMaskedCache(int heads, int kvHeads, int hd)
    {
        if (!TorchThreads.Available)
        {
            Assert.False(OperatingSystem.IsLinux(), TorchThreads.UnavailableReason);
            return;
        }
        using var scope = NewDisposeScope();
        manual_seed(5);
        var config = new ModelConfig
        {
            Architecture = ModelConfig.LlamaArchitecture, VocabSize = 16, HiddenSize = heads * hd, IntermediateSize = 8,
            NumLayers = 2, NumHeads = heads, NumKeyValueHeads = kvHeads, HeadDim = hd, MaxPositionEmbeddings = 40,
            RmsNormEps = 1e-5, RopeTheta = 10000,
        };
        int slots = 7, batch = 5, layer = 1;
        using var cache = new KvCache(config, slots, 40, CPU, ScalarType.Float32);
        cache.Keys(layer).normal_();
        cache.Values(layer).normal_();
        Tensor before = cache.Keys(layer).clone();
        int[] positions = [0, 39, 12, 5, 30];
        Tensor q = randn(batch, heads, 1, hd), k = randn(batch, kvHeads, 1, hd), v = randn(batch, kvHeads, 1, hd);

        Tensor actual = new DecodeAttention().Attend(cache, layer, positions, q, k, v);

        // The reference: the same cache rows, written by torch, attended by SDPA under a per-sequence mask.
        int groups = heads / kvHeads, attend = positions.Max() + 1;
        for (int i = 0; i < batch; i++)
        {
            Assert.Equal(0f, (cache.Keys(layer)[i, TensorIndex.Colon, positions[i]] - k[i, TensorIndex.Colon, 0]).abs().max().item<float>());
            Assert.Equal(0f, (cache.Values(layer)[i, TensorIndex.Colon, positions[i]] - v[i, TensorIndex.Colon, 0]).abs().max().item<float>());
        }
        Tensor keys = cache.Keys(layer).narrow(0, 0, batch).narrow(2, 0, attend);
        Tensor values = cache.Values(layer).narrow(0, 0, batch).narrow(2, 0, attend);
        Tensor blocked = arange(attend).unsqueeze(0) > tensor(positions.Select(p => (long)p).ToArray()).unsqueeze(1);
        Tensor mask = zeros(batch, 1, 1, attend).masked_fill(blocked.view(batch, 1, 1, attend), -1e9);
        Tensor expected = nn.functional.scaled_dot_product_attention(q.reshape(batch, kvHeads, groups, hd), keys, values, mask)
            .view(batch, heads, 1, hd);
        Assert.True((actual - expected).abs().max().item<float>() < 1e-5f);
        // Rows of other sequences and slots beyond the batch are untouched.
        Tensor written = zeros_like(before, dtype: ScalarType.Bool);
        for (int i = 0; i < batch; i++)
        {
            written[i, TensorIndex.Colon, positions[i]].fill_(true);
        }
        Tensor kept = written.logical_not();
        Assert.Equal(0f, (cache.Keys(layer).masked_select(kept) - before.masked_select(kept)).abs().max().item<float>());
    }

    [Fact]
    public void DecodeAttention_RejectsAPositionOutsideTheCache()
    {
        if (!TorchThreads.Available)
        {
            return;
        }
        using var scope = NewDisposeScope();
        ModelConfig config = ModelPresets.Get("nano");
        using var cache = new KvCache(config, 2, 16, CPU, ScalarType.Float32);
        Tensor q = randn(2, 4, 1, 32), k = randn(2, 4, 1, 32);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DecodeAttention().Attend(cache, 0, [3, 16], q, k, k));
        Assert.Contains("position 16 is outside the cache's 0..15", error.Message);
    }

    [Fact]
    public void Engine_AttentionKernelAndSdpaGenerateTheSameTokensAndLogProbs()
    {
        using CausalLM model = TestModels.Tiny(preset: "nano-qwen2");   // grouped-query attention with q/k/v bias
        CharTokenizer tok = TestModels.Chars;
        var requests = new[] { "3+4*2=", "a", "(1+2)*(3+4)-5 = ", "Plan: add then multiply and check" }
            .SelectMany((p, i) => new[]
            {
                new GenerationRequest(tok.Encode(p), new SamplingParams { Temperature = 0, MaxNewTokens = 40, IgnoreEos = true }),
                new GenerationRequest(tok.Encode(p), new SamplingParams { Temperature = 0.9f, MaxNewTokens = 25 + i, Seed = (ulong)i, IgnoreEos = true }),
            }).ToList();
        using var kernel = new ContinuousBatcher(model, tok, new EngineOptions { AttentionKernel = true });
        using var sdpa = new ContinuousBatcher(model, tok, new EngineOptions { AttentionKernel = false });
        GenerationResult[] a = kernel.Generate(requests);
        GenerationResult[] b = sdpa.Generate(requests);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(b[i].TokenIds, a[i].TokenIds);
            for (int j = 0; j < a[i].LogProbs.Length; j++)
            {
                Assert.InRange(a[i].LogProbs[j] - b[i].LogProbs[j], -1e-4f, 1e-4f);
            }
        }
    }
}

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
    public void Engine_DecodeKernelsAndTorchOperatorsGenerateTheSameTokensAndLogProbs()
    {
        using CausalLM model = TestModels.Tiny(preset: "nano-qwen2");   // grouped-query attention with q/k/v bias
        CharTokenizer tok = TestModels.Chars;
        var requests = new[] { "3+4*2=", "a", "(1+2)*(3+4)-5 = ", "Plan: add then multiply and check" }
            .SelectMany((p, i) => new[]
            {
                new GenerationRequest(tok.Encode(p), new SamplingParams { Temperature = 0, MaxNewTokens = 40, IgnoreEos = true }),
                new GenerationRequest(tok.Encode(p), new SamplingParams { Temperature = 0.9f, MaxNewTokens = 25 + i, Seed = (ulong)i, IgnoreEos = true }),
            }).ToList();
        using var kernel = new ContinuousBatcher(model, tok, new EngineOptions { DecodeKernels = true });
        using var sdpa = new ContinuousBatcher(model, tok, new EngineOptions { DecodeKernels = false });
        TestModels.AssertSameGenerations(sdpa.Generate(requests), kernel.Generate(requests));
    }

    [Fact]
    public void DecodeAttention_Prefill_WritesEveryTokenAndAttendsCausallyWithinItsSlot()
    {
        if (!TorchThreads.Available)
        {
            Assert.False(OperatingSystem.IsLinux(), TorchThreads.UnavailableReason);
            return;
        }
        using var scope = NewDisposeScope();
        manual_seed(9);
        int heads = 4, kvHeads = 2, hd = 16, t = 11, firstSlot = 2, groups = heads / kvHeads;   // two blocks of query tokens
        var config = new ModelConfig
        {
            Architecture = ModelConfig.LlamaArchitecture, VocabSize = 16, HiddenSize = heads * hd, IntermediateSize = 8,
            NumLayers = 1, NumHeads = heads, NumKeyValueHeads = kvHeads, HeadDim = hd, MaxPositionEmbeddings = 32,
            RmsNormEps = 1e-5, RopeTheta = 10000,
        };
        using var cache = new KvCache(config, 6, 32, CPU, ScalarType.Float32);
        cache.Keys(0).normal_();
        cache.Values(0).normal_();
        int[] starts = [0, 4, 2], counts = [11, 6, 1];   // a full prompt, a continuation after 4 cached tokens, a short one
        Tensor rawQ = randn(3, heads, t, hd), rawK = randn(3, kvHeads, t, hd), v = randn(3, kvHeads, t, hd);
        // Unrotated q/k and a table of angles: the kernel rotates them as RotaryEmbedding.Apply does with those angles.
        var table = new RotaryTable(hd, 10000, 32);
        var positions = Enumerable.Range(0, 3).SelectMany(i => Enumerable.Range(starts[i], t)).ToList();
        (Tensor cos, Tensor sin) = table.Rows(positions);
        cos = cos.view(3, t, 1, hd).transpose(1, 2);   // [B, 1, T, hd]
        sin = sin.view(3, t, 1, hd).transpose(1, 2);
        Tensor q = RotaryEmbedding.Apply(rawQ, cos, sin), k = RotaryEmbedding.Apply(rawK, cos, sin);

        Tensor actual = new DecodeAttention().Attend(cache, 0, firstSlot, starts, counts, rawQ, rawK, v, table);

        Assert.Equal(new long[] { 3, heads, t, hd }, actual.shape);
        float scale = 1f / MathF.Sqrt(hd);
        for (int i = 0; i < 3; i++)
        {
            Tensor keys = cache.Keys(0)[firstSlot + i], values = cache.Values(0)[firstSlot + i];   // [KV, maxLen, hd]
            for (int j = 0; j < t; j++)
            {
                for (int h = 0; h < heads; h++)
                {
                    Tensor got = actual[i, h, j];
                    if (j >= counts[i])
                    {
                        Assert.Equal(0f, got.abs().max().item<float>());   // padding rows
                        continue;
                    }
                    int kvh = h / groups, length = starts[i] + j + 1;
                    // The token's own key (rotated exactly as torch rotates it) and value are in the cache at its position.
                    Assert.Equal(0f, (keys[kvh, starts[i] + j] - k[i, kvh, j]).abs().max().item<float>());
                    Assert.Equal(0f, (values[kvh, starts[i] + j] - v[i, kvh, j]).abs().max().item<float>());
                    Tensor weights = (keys[kvh].narrow(0, 0, length).matmul(q[i, h, j]) * scale).softmax(0);
                    Tensor expected = weights.matmul(values[kvh].narrow(0, 0, length));
                    Assert.True((got - expected).abs().max().item<float>() < 1e-5f, $"sequence {i}, token {j}, head {h}");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(13)]    // one 12-row tile and a single row
    [InlineData(64)]
    [InlineData(70)]    // several 24-row items, the last one short
    public void DecodeLinear_MatchesTorchLinear_AndFollowsAWeightChangeAfterInvalidate(int n)
    {
        if (!DecodeLinear.Supported)
        {
            return;   // no AVX-512 here: the engine keeps nn.Linear
        }
        using var scope = NewDisposeScope();
        manual_seed(n);
        var withBias = nn.Linear(40, 96, hasBias: true);
        var plain = nn.Linear(40, 64, hasBias: false);
        Tensor x = randn(n, 1, 40);
        using var linear = new DecodeLinear();
        Tensor[] y = linear.Forward(x, withBias, plain);
        Assert.Equal(new long[] { n, 1, 96 }, y[0].shape);
        Assert.True((y[0] - withBias.forward(x)).abs().max().item<float>() < 1e-5f);
        Assert.True((y[1] - plain.forward(x)).abs().max().item<float>() < 1e-5f);
        Assert.Equal((96L * 41 + 64L * 40) * 4, linear.PackedBytes);

        using (no_grad())
        {
            withBias.weight!.mul_(-2);
            withBias.bias!.add_(1);
        }
        linear.Invalidate();
        Tensor again = linear.Forward(x, withBias)[0];
        Assert.True((again - withBias.forward(x)).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void DecodeLinear_HandlesOnlyOutputWidthsThatAreMultiplesOf32()
    {
        if (!DecodeLinear.Supported)
        {
            return;
        }
        Assert.True(DecodeLinear.Handles(nn.Linear(8, 32)));
        Assert.False(DecodeLinear.Handles(nn.Linear(8, 48)));
        Assert.False(DecodeLinear.Handles(nn.Linear(8, 32, dtype: ScalarType.BFloat16)));
        using var linear = new DecodeLinear();
        var error = Assert.Throws<ArgumentException>(() => linear.Forward(randn(2, 8), nn.Linear(8, 48)));
        Assert.Contains("cannot run here", error.Message);
    }

    [Theory]
    [InlineData(8, 1100)]     // packed width 16; a short last chunk and leftover rows
    [InlineData(20, 1100)]    // width 32
    [InlineData(64, 2000)]    // width 64
    [InlineData(70, 1100)]    // width 128: two column blocks, six columns of padding
    public void VocabSampler_ChoosesWhatTheTorchSamplerChooses(int n, int vocab)
    {
        if (!VocabSampler.Supported)
        {
            return;
        }
        using var scope = NewDisposeScope();
        manual_seed(n + vocab);
        SamplingParams[] kinds =
        [
            new() { Temperature = 0 }, new() { Temperature = 1f }, new() { Temperature = 0.7f },
            new() { Temperature = 1.3f, TopK = 5 }, new() { Temperature = 1f, TopP = 0.9f },
        ];
        var sampling = Enumerable.Range(0, n).Select(i => kinds[i % kinds.Length]).ToList();
        Tensor weight = randn(vocab, 24), hidden = randn(n, 24);
        Tensor logits = hidden.matmul(weight.t());
        using var sampler = new VocabSampler();
        for (int draw = 0; draw < 3; draw++)
        {
            var torchRngs = Enumerable.Range(0, n).Select(i => new SplitMix64((ulong)(draw * 1000 + i))).ToList();
            var kernelRngs = Enumerable.Range(0, n).Select(i => new SplitMix64((ulong)(draw * 1000 + i))).ToList();
            TokenSampler.Choice[] expected = TokenSampler.Sample(logits, sampling, torchRngs);
            TokenSampler.Choice[] actual = sampler.Sample(weight, hidden, sampling, kernelRngs);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(expected[i].Token, actual[i].Token);
                Assert.InRange(actual[i].LogProb - expected[i].LogProb, -2e-5f, 2e-5f);
            }
            // Both consumed the same draws: the generators are in step afterwards.
            Assert.Equal(torchRngs.Select(r => r.NextDouble()), kernelRngs.Select(r => r.NextDouble()));
        }
    }

    [Fact]
    public void Engine_AfterAnInPlaceWeightChangeAndRefresh_GeneratesWhatAFreshEngineDoes()
    {
        using CausalLM model = TestModels.Tiny(preset: "nano-qwen2");
        CharTokenizer tok = TestModels.Chars;
        var requests = Enumerable.Range(0, 9).Select(i => new GenerationRequest(tok.Encode("3+4*2=" + i),
            new SamplingParams { Temperature = 1f, MaxNewTokens = 12, Seed = (ulong)i, IgnoreEos = true })).ToList();
        using var engine = new ContinuousBatcher(model, tok);
        GenerationResult[] before = engine.Generate(requests);
        using (no_grad())
        {
            foreach (var p in model.parameters())
            {
                p.mul_(1.5);
            }
        }
        engine.RefreshWeights();
        GenerationResult[] after = engine.Generate(requests);
        using var fresh = new ContinuousBatcher(model, tok);
        GenerationResult[] expected = fresh.Generate(requests);
        Assert.NotEqual(before.Select(r => r.LogProbs[0]), after.Select(r => r.LogProbs[0]));
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(expected[i].TokenIds, after[i].TokenIds);
            Assert.Equal(expected[i].LogProbs, after[i].LogProbs);
        }
    }

    [Theory]
    [InlineData(1, 128)]
    [InlineData(7, 40)]     // a width with a scalar tail
    [InlineData(64, 288)]
    public void DecodeElementwise_MatchesRmsNormAndTheSwiGluGate(int rows, int width)
    {
        if (!TorchThreads.Available)
        {
            Assert.False(OperatingSystem.IsLinux(), TorchThreads.UnavailableReason);
            return;
        }
        using var scope = NewDisposeScope();
        manual_seed(rows * width);
        var norm = new RmsNorm(width, 1e-5, CPU, ScalarType.Float32);
        using (no_grad())
        {
            norm.Weight.uniform_(0.5, 1.5);
        }
        Tensor x = randn(rows, 1, width) * 3;
        var kernel = new DecodeElementwise();
        Tensor normed = kernel.RmsNorm(x, norm.Weight, norm.Epsilon);
        Assert.Equal(x.shape, normed.shape);
        Assert.True((normed - norm.forward(x)).abs().max().item<float>() < 1e-5f);

        Tensor gate = randn(rows, width) * 4, up = randn(rows, width);
        Tensor expected = nn.functional.silu(gate) * up;
        Tensor result = kernel.SiluGate(gate, up);
        Assert.True((result - expected).abs().max().item<float>() < 1e-5f);
        Assert.True(ReferenceEquals(gate, result));   // written in place
    }

    [Fact]
    public void RotaryTable_AgreesWithTorchsAngles()
    {
        using var scope = NewDisposeScope();
        var table = new RotaryTable(48, 1_000_000, 300);
        int[] positions = [0, 1, 17, 255, 299];
        (Tensor expectedCos, Tensor expectedSin) = RotaryEmbedding.Angles(tensor(positions.Select(p => (long)p).ToArray()).unsqueeze(1), 48, 1_000_000, ScalarType.Float32);
        (Tensor cos, Tensor sin) = table.Rows(positions);
        Assert.True((cos - expectedCos).abs().max().item<float>() < 1e-5f);
        Assert.True((sin - expectedSin).abs().max().item<float>() < 1e-5f);
        Assert.Throws<ArgumentException>(() => new RotaryTable(7, 10000, 4));
    }

    [Fact]
    public void VocabSampler_GivesASequenceTheSameBitsWhateverItsBatch()
    {
        if (!VocabSampler.Supported)
        {
            return;
        }
        using var scope = NewDisposeScope();
        manual_seed(3);
        Tensor weight = randn(1000, 40), hidden = randn(70, 40);
        var sampling = Enumerable.Range(0, 70).Select(i => new SamplingParams { Temperature = i % 3 == 0 ? 0 : 0.8f }).ToList();
        using var sampler = new VocabSampler();
        TokenSampler.Choice[] all = sampler.Sample(weight, hidden, sampling, Enumerable.Range(0, 70).Select(i => new SplitMix64((ulong)i)).ToList());
        // Alone (the narrow path, one column), in threes (narrow, four columns) and 20 at a time (the wide path).
        foreach (int size in new[] { 1, 3, 20 })
        {
            for (int start = 0; start + size <= 70; start += 17)
            {
                var rows = Enumerable.Range(start, size).ToList();
                TokenSampler.Choice[] part = sampler.Sample(weight, hidden.narrow(0, start, size), rows.Select(i => sampling[i]).ToList(),
                    rows.Select(i => new SplitMix64((ulong)i)).ToList());
                for (int j = 0; j < size; j++)
                {
                    Assert.Equal(all[start + j].Token, part[j].Token);
                    Assert.Equal(all[start + j].LogProb, part[j].LogProb);   // bit for bit
                }
            }
        }
    }

    [Fact]
    public void DecodeAttention_PackedTokens_EqualThePaddedLayout_AndBadOffsetsAreRefused()
    {
        if (!TorchThreads.Available)
        {
            Assert.False(OperatingSystem.IsLinux(), TorchThreads.UnavailableReason);
            return;
        }
        using var scope = NewDisposeScope();
        manual_seed(12);
        int heads = 4, kvHeads = 2, hd = 16, t = 11;
        var config = new ModelConfig
        {
            Architecture = ModelConfig.LlamaArchitecture, VocabSize = 16, HiddenSize = heads * hd, IntermediateSize = 8,
            NumLayers = 1, NumHeads = heads, NumKeyValueHeads = kvHeads, HeadDim = hd, MaxPositionEmbeddings = 32,
            RmsNormEps = 1e-5, RopeTheta = 10000,
        };
        using var padded = new KvCache(config, 4, 32, CPU, ScalarType.Float32);
        using var packed = new KvCache(config, 4, 32, CPU, ScalarType.Float32);
        padded.Keys(0).normal_();
        padded.Values(0).normal_();
        packed.Keys(0).copy_(padded.Keys(0));
        packed.Values(0).copy_(padded.Values(0));
        // Two decode steps after cached tokens, a prompt of 11 (two query blocks) and one of 3: a mixed engine step.
        int[] starts = [5, 9, 0, 0], counts = [1, 1, 11, 3];
        Tensor q = randn(4, heads, t, hd), k = randn(4, kvHeads, t, hd), v = randn(4, kvHeads, t, hd);
        var table = new RotaryTable(hd, 10000, 32);
        Tensor expected = new DecodeAttention().Attend(padded, 0, 0, starts, counts, q, k, v, table);   // [B, H, T, hd]

        int[] offsets = [0, 1, 2, 13];
        Tensor Pack(Tensor x) => cat(Enumerable.Range(0, 4).Select(i => x[i].narrow(1, 0, counts[i])).ToArray(), 1).unsqueeze(0);   // [1, heads, N, hd]
        Tensor actual = new DecodeAttention().Attend(packed, 0, 0, starts, counts, offsets, Pack(q), Pack(k), Pack(v), table);
        Assert.Equal(new long[] { 1, heads, 16, hd }, actual.shape);
        Assert.Equal(0f, (Pack(expected) - actual).abs().max().item<float>());
        Assert.Equal(0f, (padded.Keys(0) - packed.Keys(0)).abs().max().item<float>());
        Assert.Equal(0f, (padded.Values(0) - packed.Values(0)).abs().max().item<float>());

        var gap = Assert.Throws<ArgumentOutOfRangeException>(() => new DecodeAttention().Attend(packed, 0, 0, starts, counts, [0, 2, 3, 14], Pack(q), Pack(k), Pack(v), table));
        Assert.Contains("packed sequence 1 starts at row 2 with 1 tokens; expected row 1", gap.Message);
        var shortCover = Assert.Throws<ArgumentException>(() => new DecodeAttention().Attend(packed, 0, 0, starts[..3], counts[..3], offsets[..3], Pack(q), Pack(k), Pack(v), table));
        Assert.Contains("cover 13 rows of the 16 given", shortCover.Message);
    }

    [Fact]
    public void Engine_OnTheKernels_GivesEachSeededRequestTheSameBitsAloneOrInABatch()
    {
        using CausalLM model = TestModels.Tiny(preset: "nano-qwen2", vocab: 1000);   // vocabulary over two 480-row chunks
        CharTokenizer tok = TestModels.Chars;
        var requests = Enumerable.Range(0, 20).Select(i => new GenerationRequest(tok.Encode($"{i}+{i * 7 % 10}*3=" + new string('x', i % 5)),
            new SamplingParams
            {
                Temperature = i % 4 == 0 ? 0 : 1f, TopK = i % 5 == 1 ? 7 : 0, TopP = i % 7 == 2 ? 0.8f : 1f,
                MaxNewTokens = 10 + i % 6, Seed = (ulong)i, IgnoreEos = true,
            })).ToList();
        using var engine = new ContinuousBatcher(model, tok, new EngineOptions { MaxBatch = 16 });   // 16 at once, the rest join as others finish
        GenerationResult[] batched = engine.Generate(requests);
        // Requests that joined while others ran were prefilled in the same packed forward as the others' decode step.
        Assert.Equal(engine.DecodesWithKernels, engine.Times.MixedForwards > 0);
        Assert.Equal(requests.Count, engine.Times.PrefillSequences);
        // Bit for bit where every kernel runs (AVX-512: projections and the vocabulary sampler in C#). Without AVX-512
        // the projections run torch's product, whose reduction order depends on the batch: there the promise is the
        // torch path's, the same tokens with log-probs equal to float rounding.
        bool bitExact = DecodeLinear.Supported && VocabSampler.Supported;
        for (int i = 0; i < requests.Count; i += 3)
        {
            GenerationResult alone = engine.Generate([requests[i]])[0];
            Assert.Equal(alone.TokenIds, batched[i].TokenIds);
            if (bitExact)
            {
                Assert.Equal(alone.LogProbs, batched[i].LogProbs);
            }
            else
            {
                Assert.All(alone.LogProbs.Zip(batched[i].LogProbs), p => Assert.InRange(p.First - p.Second, -1e-4f, 1e-4f));
            }
        }
    }

    /// <summary>A slot move copies the first positions of every layer's keys and values and nothing else (host float32: direct copies; else torch).</summary>
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void KvCache_MoveSlot_CopiesTheFirstPositionsOfEveryLayer(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        ModelConfig config = ModelPresets.Get("nano-qwen2", 40) with { NumLayers = 2, NumKeyValueHeads = 2, HeadDim = 8 };
        using var cache = new KvCache(config, slots: 4, maxLength: 12, CPU, dtype);
        manual_seed(3);
        for (int layer = 0; layer < cache.Layers; layer++)
        {
            cache.Keys(layer).normal_();
            cache.Values(layer).normal_();
        }
        Tensor[] keys = [.. Enumerable.Range(0, cache.Layers).Select(l => cache.Keys(l).clone())];
        Tensor[] values = [.. Enumerable.Range(0, cache.Layers).Select(l => cache.Values(l).clone())];
        cache.MoveSlot(3, 1, 5);
        for (int layer = 0; layer < cache.Layers; layer++)
        {
            Tensor expectedKeys = keys[layer].clone(), expectedValues = values[layer].clone();
            expectedKeys[1].narrow(1, 0, 5).copy_(keys[layer][3].narrow(1, 0, 5));
            expectedValues[1].narrow(1, 0, 5).copy_(values[layer][3].narrow(1, 0, 5));
            Assert.True(cache.Keys(layer).eq(expectedKeys).all().item<bool>(), $"layer {layer}: keys");
            Assert.True(cache.Values(layer).eq(expectedValues).all().item<bool>(), $"layer {layer}: values");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.MoveSlot(4, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.MoveSlot(1, 0, 13));
    }
}

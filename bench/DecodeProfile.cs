using System.Diagnostics;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using static TorchSharp.torch;

namespace ReMA.Bench;

/// <summary>
/// Where one decode step of the 15M preset spends its time (`generate --profile [--batch N]`): the benchmark's batch run
/// step by step on both engine paths; the transformer body with the torch operators, with the C# decode kernels and
/// with C# attention only; the vocabulary projection both ways round and fused with sampling; torch and host
/// sampling; attention alone with each layer's cache in turn (cold, as in a real step), by SDPA and by the C# kernel;
/// a single-threaded read of the same cache blocks as a bandwidth yardstick; one small tensor op; torch's and the C#
/// projections at the body's shapes, packing included; and the row-wise ops.
/// Each line is the best of three rounds of repeated calls.
/// </summary>
public static unsafe class DecodeProfile
{
    public static int Run(Device device, int batch, int cached = 96, string preset = "stories15m")
    {
        // A nano preset takes the character tokenizer's vocabulary (as the product builds it).
        ModelConfig config = ModelPresets.Get(preset, preset.StartsWith("nano", StringComparison.Ordinal) ? new ReMA.Learner.Tokenization.CharTokenizer().VocabSize : null);
        using var model = new CausalLM(config, device, ScalarType.Float32, seed: 0);
        model.eval();
        using var noGrad = no_grad();
        using var cache = new KvCache(config, batch, config.MaxPositionEmbeddings, device, ScalarType.Float32);
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            cache.Keys(layer).normal_();
            cache.Values(layer).normal_();
        }
        var random = new Random(1);
        long[] ids = Enumerable.Range(0, batch).Select(_ => (long)random.Next(3, config.VocabSize)).ToArray();
        long[] pos = Enumerable.Range(0, batch).Select(i => (long)(cached - i % 8)).ToArray();
        Tensor input = tensor(ids, [batch, 1], device: device);
        Tensor position = tensor(pos, [batch, 1], device: device);
        int attend = (int)pos.Max() + 1;
        Tensor blocked = arange(attend, dtype: ScalarType.Int64, device: device).unsqueeze(0) > position;
        Tensor mask = zeros([batch, 1, 1, attend], device: device).masked_fill(blocked.view(batch, 1, 1, attend), -1e9);
        Tensor writeIndex = position.view(batch, 1, 1, 1).expand(batch, config.NumKeyValueHeads, 1, config.HeadDim).contiguous();
        Tensor noMask = zeros([batch, 1, 1, 1], device: device);
        Tensor hidden = model.Hidden(input, position, noMask).squeeze(1);
        Tensor w = model.OutputWeight, wT = w.t().contiguous();
        var sampling = Enumerable.Range(0, batch).Select(i => new SamplingParams { Seed = (ulong)i }).ToList();
        var rngs = Enumerable.Range(0, batch).Select(i => new SplitMix64((ulong)i)).ToList();
        Tensor logits = hidden.matmul(wT), logitsByColumn = logits.t().contiguous();
        int kv = config.NumKeyValueHeads, hd = config.HeadDim, turn = 0;
        Tensor q = randn(batch, config.NumHeads, 1, hd, device: device);
        Tensor a = randn(batch, config.HiddenSize, device: device), b = randn(batch, config.HiddenSize, device: device);

        Console.WriteLine($"decode step profile: batch {batch}, {cached} cached positions, {preset} float32, {get_num_threads()} threads");
        EngineSteps(model, batch, kernels: true);
        EngineSteps(model, batch, kernels: false);
        if (preset != "stories15m")
        {
            // The lines below use the 15M preset's shapes; for another preset the engine runs and the body are the figures.
            Time("body with attention over the cache", () => model.Hidden(input, position, mask, new DecodeAccess(cache, writeIndex, attend)).Dispose());
            Time("body, no cache (attention over 1 key)", () => model.Hidden(input, position, noMask).Dispose());
            Time("sampling, torch (T=1)", () => TokenSampler.Sample(logits, sampling, rngs));
            Time("sampling, host by column (T=1)", () => HostSampler.Sample(logitsByColumn, sampling, rngs));
            Time("one small op (add [B, D])", () => (a + b).Dispose(), 2000);
            return 0;
        }
        Time("body with attention over the cache", () => model.Hidden(input, position, mask, new DecodeAccess(cache, writeIndex, attend)).Dispose());
        if (ReMA.Learner.Runtime.TorchThreads.Available)
        {
            using var kernels = new DecodeKernels(config, cache.MaxLength);
            int[] at = pos.Select(p => (int)p).ToArray();
            Time("body with the C# decode kernels", () => model.Hidden(input, position, noMask, new KernelDecodeAccess(cache, at, kernels)).Dispose());
            using var attentionOnly = new DecodeKernels(config, cache.MaxLength, projections: false);
            Time("body with C# attention, torch projections", () => model.Hidden(input, position, noMask, new KernelDecodeAccess(cache, at, attentionOnly)).Dispose());
            Time("body with the C# decode kernels (again)", () => model.Hidden(input, position, noMask, new KernelDecodeAccess(cache, at, kernels)).Dispose());
        }
        Time("body, no cache (attention over 1 key)", () => model.Hidden(input, position, noMask).Dispose());
        Time("vocabulary h W^T (transposed copy)", () => hidden.matmul(wT).Dispose());
        Time("vocabulary W h^T", () => w.matmul(hidden.t()).Dispose());
        Tensor[] chunks = w.split(4096, 0);
        Time("vocabulary W h^T, 4096-row chunks in turn", () =>
        {
            foreach (Tensor chunk in chunks)
            {
                chunk.matmul(hidden.t()).Dispose();
            }
        });
        if (VocabSampler.Supported)
        {
            using var fused = new VocabSampler();
            Time("vocabulary + sampling, VocabSampler (T=1)", () => fused.Sample(w, hidden, sampling, rngs));
        }
        Time("sampling, torch (T=1)", () => TokenSampler.Sample(logits, sampling, rngs));
        Time("sampling, host by column (T=1)", () => HostSampler.Sample(logitsByColumn, sampling, rngs));
        Tensor Sdpa(int l) => nn.functional.scaled_dot_product_attention(q, cache.Keys(l).narrow(2, 0, attend), cache.Values(l).narrow(2, 0, attend), mask);
        void SdpaLayersInTurn() => Sdpa(turn++ % config.NumLayers).Dispose();
        Time("attention SDPA, layers in turn", SdpaLayersInTurn, 300);
        Time("read the same K/V blocks, layers in turn", () => SumBlocks(cache.Keys(turn % config.NumLayers), cache.Values(turn++ % config.NumLayers), batch, attend), 300);
        if (ReMA.Learner.Runtime.TorchThreads.Available)
        {
            var kernel = new DecodeAttention();
            int[] positions = pos.Select(p => (int)p).ToArray();
            Tensor qh = q.view(batch, config.NumHeads, 1, hd);
            Tensor kNew = randn(batch, kv, 1, hd, device: device), vNew = randn(batch, kv, 1, hd, device: device);
            for (int i = 0; i < batch; i++)
            {
                cache.Keys(0)[i, TensorIndex.Colon, (int)pos[i]].copy_(kNew[i, TensorIndex.Colon, 0]);
                cache.Values(0)[i, TensorIndex.Colon, (int)pos[i]].copy_(vNew[i, TensorIndex.Colon, 0]);
            }
            Tensor reference = Sdpa(0);
            Tensor mine = kernel.Attend(cache, 0, positions, qh, kNew, vNew);
            Console.WriteLine($"C# attention vs SDPA, largest |difference|: {(mine - reference).abs().max().item<float>():E2}");
            Time("attention, C# on libtorch's threads", () => kernel.Attend(cache, turn++ % config.NumLayers, positions, qh, kNew, vNew).Dispose(), 300);
            Time("attention SDPA (again, for comparison)", SdpaLayersInTurn, 300);
        }
        else
        {
            Console.WriteLine($"C# attention on libtorch's threads: unavailable ({ReMA.Learner.Runtime.TorchThreads.UnavailableReason})");
        }
        Time("one small op (add [B, 288])", () => (a + b).Dispose(), 2000);
        Tensor w288 = randn(288, 288) * 0.05f, w768 = randn(768, 288) * 0.05f, w768t = randn(288, 768) * 0.05f, a768 = randn(batch, 768);
        Time("linear 288->288 [B, 288]", () => nn.functional.linear(a, w288).Dispose(), 500);
        Time("linear 288->768 [B, 288]", () => nn.functional.linear(a, w768).Dispose(), 500);
        Time("linear 768->288 [B, 768]", () => nn.functional.linear(a768, w768t).Dispose(), 500);
        if (DecodeLinear.Supported)
        {
            using var linear = new DecodeLinear();
            var l288 = nn.Linear(288, 288, hasBias: false);
            var l768 = nn.Linear(288, 768, hasBias: false);
            var l768t = nn.Linear(768, 288, hasBias: false);
            Time("C# linear 288->288 [B, 288]", () => linear.Forward(a, l288)[0].Dispose(), 500);
            Time("C# linear 288->768 [B, 288]", () => linear.Forward(a, l768)[0].Dispose(), 500);
            Time("C# linear 768->288 [B, 768]", () => linear.Forward(a768, l768t)[0].Dispose(), 500);
            Time("C# linear q, k, v together [B, 288]", () => linear.Forward(a, l288, l288, l288)[0].Dispose(), 500);
            var bodyLayers = model.modules().OfType<TorchSharp.Modules.Linear>().Where(DecodeLinear.Handles).ToList();
            Time($"pack {bodyLayers.Count} projections (W^T copies) + 1-row forward", () =>
            {
                linear.Invalidate();
                foreach (var l in bodyLayers)
                {
                    linear.Forward(randn(1, l.weight!.shape[1]), l)[0].Dispose();
                }
            }, 5);
            int threads = get_num_threads();
            set_num_threads(1);
            Time("C# linear 288->288 [B, 288], 1 thread", () => linear.Forward(a, l288)[0].Dispose(), 500);
            Time("C# linear 768->288 [B, 768], 1 thread", () => linear.Forward(a768, l768t)[0].Dispose(), 500);
            set_num_threads(threads);
        }
        var norm = new RmsNorm(288, 1e-5, device, ScalarType.Float32);
        Time("rms norm [B, 288]", () => norm.forward(a).Dispose(), 500);
        Tensor qr = randn(batch, 6, 1, 48);
        (Tensor cos, Tensor sin) = RotaryEmbedding.Angles(position, 48, 10000, ScalarType.Float32);
        Time("rope [B, 6, 1, 48]", () => RotaryEmbedding.Apply(qr, cos, sin).Dispose(), 500);
        Time("silu(g) * u [B, 768]", () => (nn.functional.silu(a768) * a768).Dispose(), 500);
        return 0;
    }

    /// <summary>
    /// The generate benchmark's batch run (prompt 32, 128 new tokens) step by step: the first step (prefill and first
    /// token), and the decode steps' median and sum; the second of two runs.
    /// </summary>
    private static void EngineSteps(CausalLM model, int batch, bool kernels)
    {
        var tokenizer = new ReMA.Learner.Tokenization.CharTokenizer();
        for (int round = 0; round < 2; round++)
        {
            var random = new Random(batch);
            var requests = Enumerable.Range(0, batch).Select(i => new GenerationRequest(
                Enumerable.Range(0, 32).Select(_ => random.Next(3, tokenizer.VocabSize)).ToArray(),
                new SamplingParams { MaxNewTokens = 128, IgnoreEos = true, Seed = (ulong)i })).ToList();
            using var engine = new ContinuousBatcher(model, tokenizer, new EngineOptions { MaxBatch = batch, DecodeKernels = kernels });
            foreach (GenerationRequest request in requests)
            {
                _ = engine.Enqueue(request);
            }
            var steps = new List<double>();
            var total = Stopwatch.StartNew();
            while (engine.HasWork)
            {
                var clock = Stopwatch.StartNew();
                engine.Step();
                steps.Add(clock.Elapsed.TotalMilliseconds);
            }
            if (round == 1)
            {
                var decode = steps.Skip(1).Order().ToList();
                Console.WriteLine($"engine run, {(kernels ? "C# decode kernels" : "torch operators")}: {total.Elapsed.TotalSeconds:F3} s, first step {steps[0]:F1} ms, " +
                    $"decode steps median {decode[decode.Count / 2]:F2} ms, slowest {decode[^1]:F1} ms, sum {decode.Sum() / 1000:F3} s ({decode.Count} steps)");
            }
        }
    }

    /// <summary>Sums the first <paramref name="length"/> positions of every (slot, head) block of K and V: the least a kernel must read.</summary>
    private static float SumBlocks(Tensor keys, Tensor values, int batch, int length)
    {
        int kv = (int)keys.shape[1], maxLen = (int)keys.shape[2], hd = (int)keys.shape[3];
        float* k = ReMA.Learner.Runtime.NativeTensor.Float32(keys), v = ReMA.Learner.Runtime.NativeTensor.Float32(values);
        float total = 0;
        for (int item = 0; item < batch * kv; item++)
        {
            long at = (long)item * maxLen * hd;
            total += System.Numerics.Tensors.TensorPrimitives.Sum(new ReadOnlySpan<float>(k + at, length * hd));
            total += System.Numerics.Tensors.TensorPrimitives.Sum(new ReadOnlySpan<float>(v + at, length * hd));
        }
        return total;
    }

    private static void Time(string name, Action action, int reps = 50)
    {
        for (int i = 0; i < 5; i++)
        {
            action();
        }
        double best = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++)
            {
                using var scope = NewDisposeScope();
                action();
            }
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds / reps);
        }
        Console.WriteLine($"{name,-42} {best,8:F3} ms");
    }
}

using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Scoring;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests;

public class GenerationTests
{
    private static readonly CharTokenizer Tok = TestModels.Chars;

    private static GenerationRequest Request(string prompt, ulong seed, int maxNew = 24, float temperature = 1f, string id = "") =>
        new(Tok.Encode(prompt), new SamplingParams { Temperature = temperature, MaxNewTokens = maxNew, Seed = seed, IgnoreEos = true }, id);

    private static readonly string[] Prompts = ["3+4*2=", "What is 12-5?", "a", "(1+2)*(3+4)-5 = ", "xyz", "Plan: add then multiply"];

    private static void AssertSame(GenerationResult expected, GenerationResult actual, float tolerance = 1e-4f)
    {
        Assert.Equal(expected.TokenIds, actual.TokenIds);
        Assert.Equal(expected.FinishReason, actual.FinishReason);
        for (int i = 0; i < expected.LogProbs.Length; i++)
        {
            Assert.InRange(actual.LogProbs[i] - expected.LogProbs[i], -tolerance, tolerance);
        }
    }

    [Fact]
    public void KvCachedDecode_EqualsFullRecompute()
    {
        using CausalLM model = TestModels.Tiny();
        var requests = Prompts.Select((p, i) => Request(p, (ulong)(100 + i))).ToList();
        using var cached = new ContinuousBatcher(model, Tok, new EngineOptions { UseKvCache = true });
        using var recompute = new ContinuousBatcher(model, Tok, new EngineOptions { UseKvCache = false });
        GenerationResult[] a = cached.Generate(requests);
        GenerationResult[] b = recompute.Generate(requests);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(24, a[i].TokenIds.Length);
            AssertSame(b[i], a[i]);
        }
    }

    [Fact]
    public void Batch_EqualsSequencesOneAtATime()
    {
        using CausalLM model = TestModels.Tiny(preset: "nano");
        var requests = Prompts.Select((p, i) => Request(p, (ulong)(7 + i), maxNew: 10 + 3 * i)).ToList();
        using var engine = new ContinuousBatcher(model, Tok);
        GenerationResult[] batched = engine.Generate(requests);
        for (int i = 0; i < requests.Count; i++)
        {
            GenerationResult alone = engine.Generate([requests[i]])[0];
            AssertSame(alone, batched[i]);
            Assert.Equal(10 + 3 * i, batched[i].TokenIds.Length);
        }
    }

    [Fact]
    public async Task StaggeredArrivals_GiveTheSameTokensForFixedSeeds()
    {
        using CausalLM model = TestModels.Tiny();
        var requests = Prompts.Select((p, i) => Request(p, (ulong)(31 * i + 5), maxNew: 8 + 5 * (i % 3))).ToList();
        using var engine = new ContinuousBatcher(model, Tok, new EngineOptions { MaxBatch = 4 });
        GenerationResult[] reference = requests.Select(r => engine.Generate([r])[0]).ToArray();

        // Requests arrive while others are mid-generation; the batch never exceeds 4, so some wait for a free slot.
        var tasks = new Task<GenerationResult>[requests.Count];
        tasks[0] = engine.Enqueue(requests[0]);
        tasks[1] = engine.Enqueue(requests[1]);
        int next = 2, step = 0;
        while (engine.HasWork || next < requests.Count)
        {
            if (next < requests.Count && step % 3 == 2)
            {
                tasks[next] = engine.Enqueue(requests[next]);
                next++;
            }
            if (engine.HasWork)
            {
                engine.Step();
                Assert.True(engine.ActiveCount <= 4);
            }
            step++;
        }
        for (int i = 0; i < requests.Count; i++)
        {
            AssertSame(reference[i], await tasks[i]);
        }
    }

    [Fact]
    public async Task Engine_FinishedSequencesDoNotWaitForTheSlowest()
    {
        using CausalLM model = TestModels.Tiny();
        using var engine = new GenerationEngine(model, Tok);
        // Completion order, recorded as each request completes (a check of slow.IsCompleted after awaiting the quick one
        // would race with the engine on a loaded machine).
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Task<GenerationResult> slow = engine.GenerateAsync(Request("slow", 1, maxNew: 200));
        Task<GenerationResult> quick = engine.GenerateAsync(Request("quick", 2, maxNew: 3));
        Task slowDone = slow.ContinueWith(_ => order.Enqueue("slow"), TaskScheduler.Default);
        Task quickDone = quick.ContinueWith(_ => order.Enqueue("quick"), TaskScheduler.Default);
        await Task.WhenAll(slowDone, quickDone);
        Assert.Equal(3, (await quick).TokenIds.Length);
        Assert.Equal(200, (await slow).TokenIds.Length);
        Assert.Equal(["quick", "slow"], order);
    }

    [Fact]
    public async Task Engine_RunsWorkBetweenStepsWithoutDroppingRequests()
    {
        using CausalLM model = TestModels.Tiny();
        using var engine = new GenerationEngine(model, Tok);
        Task<GenerationResult> running = engine.GenerateAsync(Request("keep going", 3, maxNew: 60));
        int calls = 0;
        await engine.RunBetweenStepsAsync(m => calls += m.Config.NumLayers);
        GenerationResult result = await running;
        Assert.Equal(model.Config.NumLayers, calls);
        Assert.Equal(60, result.TokenIds.Length);
    }

    [Fact]
    public void SameSeed_SameTokens_DifferentSeed_DifferentTokens()
    {
        using CausalLM model = TestModels.Tiny();
        using var engine = new ContinuousBatcher(model, Tok);
        GenerationResult[] r = engine.Generate([Request("hello", 42, 40), Request("hello", 42, 40), Request("hello", 43, 40)]);
        Assert.Equal(r[0].TokenIds, r[1].TokenIds);
        Assert.NotEqual(r[0].TokenIds, r[2].TokenIds);
    }

    [Fact]
    public void Greedy_PicksTheArgmaxOfTheFullForward()
    {
        using CausalLM model = TestModels.Tiny();
        int[] prompt = Tok.Encode("2*3+1=");
        using var engine = new ContinuousBatcher(model, Tok);
        GenerationResult result = engine.Generate([new GenerationRequest(prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 12, IgnoreEos = true })])[0];
        using var scope = NewDisposeScope();
        long[] all = prompt.Concat(result.TokenIds).Select(i => (long)i).ToArray();
        Tensor logits = model.Forward(tensor(all, [1, all.Length]));
        long[] argmax = logits[0].argmax(-1).data<long>().ToArray();
        for (int j = 0; j < result.TokenIds.Length; j++)
        {
            Assert.Equal(argmax[prompt.Length - 1 + j], result.TokenIds[j]);
        }
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.7f)]
    public void Scorer_MatchesSamplerLogProbs(float temperature)
    {
        using CausalLM model = TestModels.Tiny();
        var requests = Prompts.Select((p, i) => Request(p, (ulong)(900 + i), maxNew: 16 + i, temperature: temperature)).ToList();
        using var engine = new ContinuousBatcher(model, Tok);
        GenerationResult[] results = engine.Generate(requests);
        var rows = requests.Zip(results, (q, r) => (q.PromptIds, (IReadOnlyList<int>)r.TokenIds)).ToList();
        (Tensor logProbs, Tensor mask) = LogProbScorer.Score(model, rows, temperature);
        using (logProbs)
        using (mask)
        {
            float[] scored = logProbs.detach().data<float>().ToArray();
            int width = (int)logProbs.shape[1];
            for (int i = 0; i < results.Length; i++)
            {
                for (int j = 0; j < results[i].LogProbs.Length; j++)
                {
                    Assert.InRange(scored[i * width + j] - results[i].LogProbs[j], -1e-4f, 1e-4f);
                }
                Assert.Equal(results[i].TokenIds.Length, (int)mask[i].sum().item<float>());
            }
        }
    }

    [Fact]
    public void Scorer_ProducesGradients()
    {
        using CausalLM model = TestModels.Tiny();
        model.train();
        var rows = new List<(IReadOnlyList<int>, IReadOnlyList<int>)> { (Tok.Encode("1+1="), Tok.Encode("2")), (Tok.Encode("x"), Tok.Encode("yz!")) };
        (Tensor logProbs, Tensor mask) = LogProbScorer.Score(model, rows);
        Tensor loss = -(logProbs * mask).sum();
        loss.backward();
        Assert.All(model.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StopString_EndsGenerationAtItsFirstOccurrence(bool include)
    {
        using CausalLM model = TestModels.Tiny();
        using var engine = new ContinuousBatcher(model, Tok);
        GenerationRequest free = Request("Solve 2+2", 77, maxNew: 60);
        GenerationResult full = engine.Generate([free])[0];
        string stop = full.Text.Substring(20, 2);
        int first = full.Text.IndexOf(stop, StringComparison.Ordinal);

        var stopped = engine.Generate([free with { Sampling = free.Sampling with { StopStrings = [stop], IncludeStopString = include } }])[0];
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(stop, stopped.StopString);
        Assert.Equal(full.Text[..(first + (include ? stop.Length : 0))], stopped.Text);
        Assert.Equal(full.TokenIds[..(first + stop.Length)], stopped.TokenIds);
    }

    [Fact]
    public void EndTokens_EndGenerationAndAreKeptAsTheLastId()
    {
        using CausalLM model = TestModels.Tiny();
        using var engine = new ContinuousBatcher(model, Tok);
        int[] prompt = new ChatTemplate(Tok).Render([ChatMessage.User("hi")], addGenerationPrompt: true);
        // A random model puts about 1/97 on each token, so over 200 tokens most of these seeds meet an end token.
        var requests = Enumerable.Range(0, 8).Select(i => new GenerationRequest(prompt, new SamplingParams { MaxNewTokens = 200, Seed = (ulong)i })).ToList();
        GenerationResult[] results = engine.Generate(requests);
        Assert.Contains(results, r => r.FinishReason == FinishReason.Eos);
        foreach (GenerationResult r in results)
        {
            if (r.FinishReason == FinishReason.Eos)
            {
                Assert.Contains(r.TokenIds[^1], new[] { Tok.TurnEndId, Tok.EosId });
                Assert.DoesNotContain(r.TokenIds[..^1], id => id == Tok.TurnEndId || id == Tok.EosId);
                Assert.Equal(Tok.Decode(r.TokenIds, skipSpecialTokens: true), r.Text);
            }
            else
            {
                Assert.Equal(FinishReason.Length, r.FinishReason);
                Assert.Equal(200, r.TokenIds.Length);
            }
        }
    }

    [Fact]
    public void ContextLimit_EndsWithLength()
    {
        using CausalLM model = TestModels.Tiny();
        using var engine = new ContinuousBatcher(model, Tok, new EngineOptions { MaxSequenceLength = 20 });
        GenerationResult r = engine.Generate([Request("0123456789", 5, maxNew: 100)])[0];
        Assert.Equal(FinishReason.Length, r.FinishReason);
        Assert.Equal(10, r.TokenIds.Length);
    }

    [Fact]
    public async Task BadRequests_FailWithClearMessages()
    {
        using CausalLM model = TestModels.Tiny();
        using var engine = new ContinuousBatcher(model, Tok, new EngineOptions { MaxSequenceLength = 8 });
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => engine.Enqueue(Request("0123456789", 1)));
        Assert.Contains("context length is 8", tooLong.Message);
        var badId = await Assert.ThrowsAsync<ArgumentException>(() => engine.Enqueue(new GenerationRequest([5, 9999], new SamplingParams())));
        Assert.Contains("9999", badId.Message);
        var badTemp = await Assert.ThrowsAsync<ArgumentException>(() => engine.Enqueue(new GenerationRequest([5], new SamplingParams { Temperature = -1, TopP = 0 })));
        Assert.Contains("temperature", badTemp.Message);
        Assert.Contains("top_p", badTemp.Message);
    }

    [Fact]
    public void TopK1_EqualsGreedy_AndTopPKeepsOnlyLikelyTokens()
    {
        using CausalLM model = TestModels.Tiny();
        using var engine = new ContinuousBatcher(model, Tok);
        int[] prompt = Tok.Encode("abc");
        var greedy = engine.Generate([new GenerationRequest(prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 20, IgnoreEos = true })])[0];
        var topK = engine.Generate([new GenerationRequest(prompt, new SamplingParams { TopK = 1, MaxNewTokens = 20, Seed = 3, IgnoreEos = true })])[0];
        Assert.Equal(greedy.TokenIds, topK.TokenIds);
        var nucleus = engine.Generate([new GenerationRequest(prompt, new SamplingParams { TopP = 1e-6f, MaxNewTokens = 20, Seed = 9, IgnoreEos = true })])[0];
        Assert.Equal(greedy.TokenIds, nucleus.TokenIds); // a nucleus smaller than any single token's probability holds only the argmax
    }

    [Theory]
    [InlineData(1.0f, false)]
    [InlineData(0.7f, false)]
    [InlineData(1.0f, true)]
    [InlineData(0.7f, true)]
    public void Sampler_DrawsTokensWithTheSoftmaxFrequencies(float temperature, bool host)
    {
        // 20,000 rows of the same logits, one generator each: the empirical frequencies must match softmax(logits / T)
        // (within 4 standard errors), so RL samples are on-policy for the log-probs recorded with them.
        using var scope = NewDisposeScope();
        float[] row = [2.0f, 1.0f, 0.5f, 0.0f, -1.0f, 1.5f, -3.0f, 0.25f];
        const int n = 20_000;
        Tensor logits = tensor(row).unsqueeze(0).expand(n, row.Length).contiguous();
        var sampling = Enumerable.Repeat(new SamplingParams { Temperature = temperature }, n).ToList();
        var rngs = Enumerable.Range(0, n).Select(i => new SplitMix64((ulong)i * 7919 + 13)).ToList();
        var counts = new int[row.Length];
        TokenSampler.Choice[] choices = host
            ? HostSampler.Sample(logits.t().contiguous(), sampling, rngs)   // the engine's CPU sampler reads logits by column
            : TokenSampler.Sample(logits, sampling, rngs);
        foreach (var choice in choices)
        {
            counts[choice.Token]++;
        }
        double[] scaled = [.. row.Select(x => x / (double)temperature)];
        double z = scaled.Sum(Math.Exp);
        for (int v = 0; v < row.Length; v++)
        {
            double p = Math.Exp(scaled[v]) / z;
            double se = Math.Sqrt(p * (1 - p) / n);
            Assert.True(Math.Abs(counts[v] / (double)n - p) < 4 * se + 1e-4, $"token {v}: frequency {counts[v] / (double)n:F4}, softmax {p:F4}");
        }
    }
}

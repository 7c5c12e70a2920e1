using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Policy;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using ReMA.Silo;

namespace ReMA.Grains.Tests;

/// <summary>One in-process silo configured exactly as the embedded host configures it (section ReMA:Policies).</summary>
public sealed class PolicyClusterFixture : IAsyncLifetime
{
    public static readonly Dictionary<string, string?> Settings = new()
    {
        ["ReMA:Policies:shared:Preset"] = "nano-qwen2",
        ["ReMA:Policies:shared:Seed"] = "3",
        ["ReMA:Policies:shared:MaxBatch"] = "8",
        ["ReMA:Policies:torchops:Preset"] = "nano-qwen2",
        ["ReMA:Policies:torchops:Seed"] = "3",
        ["ReMA:Policies:torchops:DecodeKernels"] = "false",
        ["ReMA:Policies:swap:Preset"] = "nano",
        ["ReMA:Policies:swap:Seed"] = "4",
        ["ReMA:Policies:episodes:Preset"] = "nano",
        ["ReMA:Policies:episodes:MaxBatch"] = "32",
        ["ReMA:Policies:learn:Preset"] = "nano",
        ["ReMA:Policies:learn:Seed"] = "21",
        ["ReMA:Policies:sft:Preset"] = "nano",
        ["ReMA:Policies:cosine:Preset"] = "nano",
        ["ReMA:Policies:cosine:Seed"] = "21",
        ["ReMA:Policies:recompute:Preset"] = "nano",
        ["ReMA:Policies:recompute:Seed"] = "21",
        ["ReMA:Policies:words:Preset"] = "nano",
        ["ReMA:Policies:words:ChatMarkup"] = "compact",
        ["ReMA:Policies:words:TokenizerWords"] = "[FINISH] Do:",
    };

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddReMA(configuration).AddReMAMemoryStorage().UseInMemoryReminderService());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public class PolicyGrainTests(PolicyClusterFixture fixture) : IClassFixture<PolicyClusterFixture>
{
    private static SamplingSpec Sampling(ulong seed, int maxNew = 20) => new(Temperature: 1f, MaxNewTokens: maxNew, Seed: seed, IgnoreEos: true);

    /// <summary>The same policy built directly, as PolicyModelLoader builds it from the same settings.</summary>
    private static (CausalLM, ITokenizer) Direct(string preset, int seed) =>
        PolicyModelLoader.Load(new PolicySource { Preset = preset, Seed = seed });

    [Fact]
    public async Task ConcurrentRequests_MatchTheEngineRunDirectly()
    {
        IPolicyGrain policy = fixture.Cluster.Client.GetGrain<IPolicyGrain>("shared/0");
        var prompts = new[] { "1+1=", "What is 7*8?", "plan", "3-2*4 = ?", "x", "(9+1)/2", "a longer prompt here", "[FINISH]" };
        int[][] ids = await Task.WhenAll(prompts.Select(p => policy.RenderChat([new ChatTurn("user", p)], true)));
        GenerateResponse[] responses = await Task.WhenAll(ids.Select((p, i) => policy.Generate(new GenerateRequest($"r{i}", p, Sampling((ulong)i, 10 + i)))));

        (CausalLM model, ITokenizer tokenizer) = Direct("nano-qwen2", 3);
        using (model)
        {
            using var engine = new ContinuousBatcher(model, tokenizer);
            for (int i = 0; i < prompts.Length; i++)
            {
                Assert.Equal(new ChatTemplate(tokenizer).Render([ChatMessage.User(prompts[i])], true), ids[i]);
                GenerationResult expected = engine.Generate([new GenerationRequest(ids[i], new SamplingParams { MaxNewTokens = 10 + i, Seed = (ulong)i, IgnoreEos = true })])[0];
                Assert.Equal($"r{i}", responses[i].RequestId);
                Assert.Equal(expected.TokenIds, responses[i].TokenIds);
                Assert.Equal(expected.Text, responses[i].Text);
                Assert.Equal("length", responses[i].FinishReason);
                Assert.Equal(0, responses[i].PolicyVersion);
            }
        }
        PolicyInfo info = await policy.GetInfo();
        Assert.Equal(ModelConfig.Qwen2Architecture, info.Architecture);
        Assert.True(info.GeneratedTokens >= responses.Sum(r => r.TokenIds.Length));
    }

    [Fact]
    public async Task TokenizerWordsSetting_BuildsTheCharTokenizerWithThem_AndTheModelsVocabularyCoversThem()
    {
        IPolicyGrain policy = fixture.Cluster.Client.GetGrain<IPolicyGrain>("words/0");
        int[] ids = await policy.RenderChat([new ChatTurn("user", "7*3\nDo: 7*3"), new ChatTurn("assistant", "[FINISH]")], false);
        var expected = new CharTokenizer(chatMarkup: ChatMarkups.Compact, words: ["[FINISH]", "Do:"]);
        Assert.Equal(new ChatTemplate(expected).Render([ChatMessage.User("7*3\nDo: 7*3"), ChatMessage.Assistant("[FINISH]")], addGenerationPrompt: false), ids);
        Assert.Equal(4 + 3 + 1 + 1 + 4 + 2 + 1, ids.Length);   // two headers of 2, "7*3", "\n", Do:, " 7*3", two ends, [FINISH]
        PolicyInfo info = await policy.GetInfo();
        Assert.Equal(expected.VocabSize, info.VocabSize);
        Assert.Equal(new CharTokenizer().VocabSize + 2, info.VocabSize);
        // The model samples over the whole vocabulary, words included.
        GenerateResponse reply = await policy.Generate(new GenerateRequest("w", ids, Sampling(5, 6)));
        Assert.All(reply.TokenIds, id => Assert.InRange(id, 0, expected.VocabSize - 1));
    }

    [Fact]
    public async Task DecodeKernelsSetting_False_ServesThroughTheTorchOperators()
    {
        IPolicyGrain policy = fixture.Cluster.Client.GetGrain<IPolicyGrain>("torchops/0");
        var prompts = new[] { "1+1=", "What is 7*8?", "plan", "3-2*4 = ?", "(9+1)/2", "a longer prompt here" };
        int[][] ids = await Task.WhenAll(prompts.Select(p => policy.RenderChat([new ChatTurn("user", p)], true)));
        GenerateResponse[] responses = await Task.WhenAll(ids.Select((p, i) => policy.Generate(new GenerateRequest($"t{i}", p, Sampling((ulong)i, 12)))));
        (CausalLM model, ITokenizer tokenizer) = Direct("nano-qwen2", 3);
        using (model)
        {
            using var torchOperators = new ContinuousBatcher(model, tokenizer, new EngineOptions { DecodeKernels = false });
            Assert.False(torchOperators.DecodesWithKernels);
            GenerationResult[] expected = torchOperators.Generate(ids.Select((p, i) =>
                new GenerationRequest(p, new SamplingParams { MaxNewTokens = 12, Seed = (ulong)i, IgnoreEos = true })).ToList());
            for (int i = 0; i < prompts.Length; i++)
            {
                Assert.Equal(expected[i].TokenIds, responses[i].TokenIds);
                for (int j = 0; j < expected[i].LogProbs.Length; j++)
                {
                    Assert.InRange(responses[i].LogProbs[j] - expected[i].LogProbs[j], -1e-4f, 1e-4f);
                }
            }
        }
        Assert.False((await policy.GetInfo()).DecodeKernels);
        Assert.Equal(OperatingSystem.IsLinux(), (await fixture.Cluster.Client.GetGrain<IPolicyGrain>("shared/0").GetInfo()).DecodeKernels);
    }

    [Fact]
    public async Task LoadVersion_SwapsWeightsAndStampsTheVersion_BadFolderKeepsTheOldOnes()
    {
        IPolicyGrain policy = fixture.Cluster.Client.GetGrain<IPolicyGrain>("swap");
        int[] prompt = await policy.RenderChat([new ChatTurn("user", "2+2")], true);
        // Seeded sampling, not seeded: a random tied-embedding model's argmax just repeats the last prompt token.
        var seeded = new SamplingSpec(Temperature: 1, MaxNewTokens: 16, Seed: 5, IgnoreEos: true);
        GenerateResponse before = await policy.Generate(new GenerateRequest("a", prompt, seeded));

        // Publish "version 7": the same architecture with other weights.
        string folder = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        (CausalLM next, ITokenizer tokenizer) = Direct("nano", 99);
        using (next)
        {
            ModelFolder.Save(next, folder, tokenizer);
            using var engine = new ContinuousBatcher(next, tokenizer);
            GenerationResult expected = engine.Generate([new GenerationRequest(prompt, new SamplingParams { Temperature = 1, MaxNewTokens = 16, Seed = 5, IgnoreEos = true })])[0];

            await policy.LoadVersion(folder, 7);
            GenerateResponse after = await policy.Generate(new GenerateRequest("b", prompt, seeded));
            Assert.Equal(7, after.PolicyVersion);
            Assert.Equal(expected.TokenIds, after.TokenIds);
            Assert.NotEqual(before.TokenIds, after.TokenIds);
        }

        // A folder for another architecture is rejected; version 7 keeps serving.
        string wrong = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        (CausalLM other, ITokenizer otherTokenizer) = Direct("micro", 1);
        using (other)
        {
            ModelFolder.Save(other, wrong, otherTokenizer);
        }
        var error = await Assert.ThrowsAnyAsync<Exception>(() => policy.LoadVersion(wrong, 8));
        Assert.Contains("describes another model", error.Message);
        Assert.Contains("num_hidden_layers 4 vs 2", error.Message);
        GenerateResponse still = await policy.Generate(new GenerateRequest("c", prompt, seeded));
        Assert.Equal(7, still.PolicyVersion);
        Assert.Equal(7, (await policy.GetInfo()).Version);
    }

    [Fact]
    public async Task UnknownPolicy_FailsWithTheConfiguredNames()
    {
        IPolicyGrain policy = fixture.Cluster.Client.GetGrain<IPolicyGrain>("nope");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => policy.GetInfo());
        Assert.Contains("policy 'nope' is not configured", error.Message);
        Assert.Contains("shared", error.Message);
    }
}

using TorchSharp;
using System.Text.Json.Nodes;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests;

public class CheckpointTests
{
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static void AssertSameWeights(CausalLM expected, CausalLM actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        foreach ((string name, Tensor t) in a)
        {
            Assert.Equal(t.dtype, b[name].dtype);
            Assert.True(Same(t, b[name]), $"{name} differs after the round trip");
        }
    }

    [Theory]
    [InlineData("nano", ScalarType.Float32)]
    [InlineData("nano-qwen2", ScalarType.Float32)]
    [InlineData("nano-qwen2", ScalarType.BFloat16)]
    public void SaveLoad_RoundTripIsExact(string preset, ScalarType dtype)
    {
        using CausalLM model = TestModels.Tiny(preset, dtype: dtype);
        string dir = TestModels.TempDir();
        ModelFolder.Save(model, dir, TestModels.Chars);
        using CausalLM loaded = ModelFolder.LoadModel(dir);
        Assert.Equal(dtype, loaded.DType);
        Assert.Equal(model.Config with { TorchDtype = "", EosTokenId = null }, loaded.Config with { TorchDtype = "", EosTokenId = null });
        AssertSameWeights(model, loaded);
        using var ids = tensor(TestModels.Chars.Encode("1+2=3").Select(i => (long)i).ToArray(), [1, 5]);
        Assert.True(Same(model.Forward(ids), loaded.Forward(ids)));
        Assert.IsType<CharTokenizer>(TokenizerLoader.Load(dir));
        Assert.True(File.Exists(Path.Combine(dir, "generation_config.json")));
    }

    [Fact]
    public void SaveLoad_ShardedIndexRoundTripIsExact()
    {
        using CausalLM model = TestModels.Tiny("nano-qwen2");
        string dir = TestModels.TempDir();
        ModelFolder.Save(model, dir, TestModels.Chars, maxShardBytes: 40_000);
        Assert.True(File.Exists(Path.Combine(dir, ModelFolder.IndexFile)));
        Assert.False(File.Exists(Path.Combine(dir, ModelFolder.WeightsFile)));
        Assert.True(Directory.GetFiles(dir, "model-*-of-*.safetensors").Length > 2);
        using CausalLM loaded = ModelFolder.LoadModel(dir);
        AssertSameWeights(model, loaded);
    }

    [Fact]
    public void BFloat16Model_GeneratesCloseToItsFloat32Copy()
    {
        using CausalLM model = TestModels.Tiny("nano-qwen2");
        string dir = TestModels.TempDir();
        ModelFolder.Save(model, dir, TestModels.Chars);
        using CausalLM half = ModelFolder.LoadModel(dir, CPU, ScalarType.BFloat16);
        using var ids = tensor(TestModels.Chars.Encode("12*3-4").Select(i => (long)i).ToArray(), [1, 6]);
        using Tensor a = model.Forward(ids), b = half.Forward(ids);
        Assert.Equal(ScalarType.Float32, b.dtype);
        Assert.True((a - b).abs().max().item<float>() < 0.05f);
        using var engine = new ContinuousBatcher(half, TestModels.Chars);
        var r = engine.Generate([new GenerationRequest([5, 6, 7], new SamplingParams { MaxNewTokens = 5, Seed = 1, IgnoreEos = true })])[0];
        Assert.Equal(5, r.TokenIds.Length);
    }

    /// <summary>config.json of a tiny Qwen2 in the exact shape Hugging Face writes.</summary>
    private static string TinyQwen2Config(int vocab) => $$"""
        {
          "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 265, "eos_token_id": 267,
          "hidden_act": "silu", "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 64,
          "max_position_embeddings": 128, "max_window_layers": 2, "model_type": "qwen2", "num_attention_heads": 4,
          "num_hidden_layers": 2, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
          "sliding_window": 128, "tie_word_embeddings": true, "torch_dtype": "float32", "transformers_version": "4.43.1",
          "use_cache": true, "use_sliding_window": false, "vocab_size": {{vocab}}
        }
        """;

    /// <summary>Tensors named and shaped as Hugging Face's Qwen2 writes them, built without the model class.</summary>
    private static Dictionary<string, Tensor> TinyQwen2Weights(int vocab)
    {
        // A private generator: tests run in parallel and torch's global generator is shared.
        using var g = new Generator(5, CPU);
        Tensor randn(params long[] shape) => torch.randn(shape, generator: g);
        var w = new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = randn(vocab, 32) * 0.02f, ["model.norm.weight"] = ones(32) };
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}.";
            w[p + "input_layernorm.weight"] = ones(32);
            w[p + "post_attention_layernorm.weight"] = ones(32);
            w[p + "self_attn.q_proj.weight"] = randn(32, 32) * 0.02f;
            w[p + "self_attn.q_proj.bias"] = randn(32) * 0.02f;
            w[p + "self_attn.k_proj.weight"] = randn(16, 32) * 0.02f;
            w[p + "self_attn.k_proj.bias"] = randn(16) * 0.02f;
            w[p + "self_attn.v_proj.weight"] = randn(16, 32) * 0.02f;
            w[p + "self_attn.v_proj.bias"] = randn(16) * 0.02f;
            w[p + "self_attn.o_proj.weight"] = randn(32, 32) * 0.02f;
            w[p + "mlp.gate_proj.weight"] = randn(64, 32) * 0.02f;
            w[p + "mlp.up_proj.weight"] = randn(64, 32) * 0.02f;
            w[p + "mlp.down_proj.weight"] = randn(32, 64) * 0.02f;
        }
        return w;
    }

    private static string WriteTinyQwen2Folder(Action<Dictionary<string, Tensor>>? edit = null)
    {
        string dir = TestModels.TempDir();
        int vocab = TokenizerFixtures.VocabSize;
        File.WriteAllText(Path.Combine(dir, "config.json"), TinyQwen2Config(vocab));
        var weights = TinyQwen2Weights(vocab);
        edit?.Invoke(weights);
        Safetensors.Write(Path.Combine(dir, "model.safetensors"), weights);
        TokenizerFixtures.Write(dir);
        File.WriteAllText(Path.Combine(dir, "generation_config.json"), """{"eos_token_id": [267, 265], "do_sample": true}""");
        return dir;
    }

    [Fact]
    public void HuggingFaceQwen2Folder_LoadsStrictlyAndGenerates()
    {
        string dir = WriteTinyQwen2Folder();
        using CausalLM model = ModelFolder.LoadModel(dir);
        Assert.Equal(ModelConfig.Qwen2Architecture, model.Config.Architecture);
        Assert.True(model.Config.QkvBias);
        Assert.Equal(1_000_000, model.Config.RopeTheta);
        var written = TinyQwen2Weights(TokenizerFixtures.VocabSize);
        var loaded = model.state_dict();
        Assert.Equal(written.Keys.OrderBy(k => k), loaded.Keys.OrderBy(k => k));
        Assert.All(written, kv => Assert.True(Same(kv.Value, loaded[kv.Key]), kv.Key));

        ITokenizer tok = TokenizerLoader.Load(dir);
        int[] prompt = new ChatTemplate(tok).Render([ChatMessage.User("hello the world")], addGenerationPrompt: true);
        using var engine = new ContinuousBatcher(model, tok);
        GenerationResult r = engine.Generate([new GenerationRequest(prompt, new SamplingParams { MaxNewTokens = 20, Seed = 11 })])[0];
        Assert.InRange(r.TokenIds.Length, 1, 20);
        Assert.Equal(tok.Decode(r.FinishReason == FinishReason.Eos ? r.TokenIds[..^1] : r.TokenIds), r.Text);
    }

    [Fact]
    public void Qwen25HalfBillionConfig_OnMetaDevice_MatchesApprovedParameterList()
    {
        string dir = TestModels.TempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), """
            {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643,
             "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
             "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14,
             "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
             "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.43.1",
             "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}
            """);
        ModelConfig config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        using var model = new CausalLM(config, META);
        string[] actual = model.named_parameters().Select(p => $"{p.name} [{string.Join(", ", p.parameter.shape)}]").OrderBy(s => s, StringComparer.Ordinal).ToArray();
        string[] approved = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Approved", "qwen2.5-0.5b.parameters.txt"));
        Assert.Equal(approved, actual);
        Assert.Equal(494_032_768, model.ParameterCount());
        Assert.Equal(494_032_768, config.ParameterCount());
        Assert.Equal(ScalarType.BFloat16, model.DType);
    }

    [Fact]
    public void MissingConfig_IsReportedByName()
    {
        string dir = TestModels.TempDir();
        var error = Assert.Throws<FileNotFoundException>(() => ModelFolder.LoadModel(dir));
        Assert.Contains("config.json", error.Message);
    }

    [Fact]
    public void MissingWeights_AreReportedByName()
    {
        string dir = WriteTinyQwen2Folder();
        File.Delete(Path.Combine(dir, "model.safetensors"));
        var error = Assert.Throws<FileNotFoundException>(() => ModelFolder.LoadModel(dir));
        Assert.Contains("model.safetensors", error.Message);
    }

    [Fact]
    public void CorruptSafetensors_IsReportedWithTheFile()
    {
        string dir = WriteTinyQwen2Folder();
        string path = Path.Combine(dir, "model.safetensors");
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);                  // truncated: offsets point past the end
        var truncated = Assert.Throws<InvalidDataException>(() => ModelFolder.LoadModel(dir));
        Assert.Contains(path, truncated.Message);
        Assert.Contains("corrupt", truncated.Message);

        File.WriteAllBytes(path, [.. BitConverter.GetBytes(12L), .. "{not json!!}"u8.ToArray()]);
        var garbage = Assert.Throws<InvalidDataException>(() => ModelFolder.LoadModel(dir));
        Assert.Contains("header is not a JSON object", garbage.Message);

        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("corrupt", Assert.Throws<InvalidDataException>(() => ModelFolder.LoadModel(dir)).Message);
    }

    [Fact]
    public void ShapeMismatch_NamesTheTensorAndBothShapes()
    {
        string dir = WriteTinyQwen2Folder(w => w["model.layers.1.mlp.up_proj.weight"] = zeros(48, 32));
        var error = Assert.Throws<InvalidDataException>(() => ModelFolder.LoadModel(dir));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", error.Message);
        Assert.Contains("[48, 32]", error.Message);
        Assert.Contains("[64, 32]", error.Message);
    }

    [Fact]
    public void MissingAndUnexpectedTensors_AreListed()
    {
        string dir = WriteTinyQwen2Folder(w =>
        {
            w.Remove("model.layers.0.self_attn.k_proj.bias");
            w["model.layers.0.self_attn.extra.weight"] = zeros(2);
        });
        var error = Assert.Throws<InvalidDataException>(() => ModelFolder.LoadModel(dir));
        Assert.Contains("missing tensors: model.layers.0.self_attn.k_proj.bias", error.Message);
        Assert.Contains("unexpected tensors: model.layers.0.self_attn.extra.weight", error.Message);
    }

    [Fact]
    public void UnknownArchitecture_IsRejectedWithTheSupportedOnes()
    {
        string dir = WriteTinyQwen2Folder();
        string configPath = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["architectures"] = new JsonArray("GPT2LMHeadModel");
        File.WriteAllText(configPath, config.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => ModelFolder.LoadModel(dir));
        Assert.Contains("GPT2LMHeadModel", error.Message);
        Assert.Contains("Qwen2ForCausalLM", error.Message);
        Assert.Contains(configPath, error.Message);
    }

    [Fact]
    public void InvalidConfigValues_AreAllReportedAtOnce()
    {
        string dir = TestModels.TempDir();
        string path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, """{"architectures": ["LlamaForCausalLM"], "vocab_size": 0, "hidden_size": 30, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3}""");
        var error = Assert.Throws<InvalidDataException>(() => ModelConfig.Load(path));
        Assert.Contains("vocab_size", error.Message);
        Assert.Contains("num_key_value_heads (3)", error.Message);
        Assert.Contains("head_dim (7) must be even", error.Message);
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>
/// A Llama/Qwen2-family causal language model whose state-dict keys are exactly the Hugging Face names
/// (model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight, ..., lm_head.weight unless tied),
/// so checkpoints load strictly with no renaming.
/// </summary>
public sealed class CausalLM : nn.Module
{
    /// <summary>Mask value for blocked attention positions (finite so a fully padded row never yields NaN).</summary>
    public const float Blocked = -1e9f;

    /// <summary><see cref="Blocked"/> as a scalar that is never collected (an implicit conversion's temporary can be freed during the native call).</summary>
    internal static readonly TorchSharp.Scalar BlockedScalar = Blocked.ToScalar();

    private readonly DecoderModel model;
    private readonly Linear? lm_head;

    /// <param name="seed">
    /// Seed of the initialisation's own generator; null draws from torch's global generator. A seed keeps models built
    /// on different threads at the same time reproducible (the global generator is shared by the whole process).
    /// </param>
    public CausalLM(ModelConfig config, Device? device = null, ScalarType? dtype = null, long? seed = null) : base(nameof(CausalLM))
    {
        config.Validate();
        Config = config;
        Device = device ?? CPU;
        DType = dtype ?? Runtime.TorchDevice.ResolveDType(config.TorchDtype is "bfloat16" ? "bfloat16" : "float32");
        model = new DecoderModel(config, Device, DType);
        if (!config.TieWordEmbeddings)
        {
            lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, device: Device, dtype: DType);
        }
        RegisterComponents();
        using Generator? generator = seed is long s ? new Generator((ulong)s, CPU) : null;
        InitializeWeights(generator: generator);
    }

    /// <summary>Hugging Face's initialisation: weights ~ N(0, initializer_range), biases 0, norm scales 1.</summary>
    public void InitializeWeights(double std = 0.02, Generator? generator = null)
    {
        if (Device.type == DeviceType.META)
        {
            return;
        }
        using var noGrad = no_grad();
        foreach ((string name, Parameter p) in named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                p.fill_(1.0);
            }
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                p.zero_();
            }
            else
            {
                if (generator is null || Device.type == DeviceType.CPU)
                {
                    p.normal_(0, std, generator);
                }
                else
                {
                    // Draw on the CPU generator, then move: a CPU generator cannot drive a CUDA tensor.
                    using Tensor draw = empty(p.shape, dtype: p.dtype).normal_(0, std, generator);
                    p.copy_(draw);
                }
            }
        }
    }

    public ModelConfig Config { get; }
    public Device Device { get; }
    public ScalarType DType { get; }

    /// <summary>Final hidden states [B, T, D].</summary>
    public Tensor Hidden(Tensor inputIds, Tensor positions, Tensor mask, KvCacheAccess? cache = null) =>
        model.Forward(inputIds, positions, mask, cache);

    /// <summary>The output projection's weight [V, D]: lm_head.weight, or the embedding when tied.</summary>
    public Tensor OutputWeight => lm_head?.weight ?? model.EmbeddingWeight;

    /// <summary>Logits [..., V] from hidden states [..., D]: float32 for reduced-precision models, else the model's dtype.</summary>
    public Tensor Logits(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        Tensor logits = lm_head is null ? nn.functional.linear(hidden, model.EmbeddingWeight) : lm_head.forward(hidden);
        return (logits.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? logits.to(ScalarType.Float32) : logits).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Plain forward over right-padded sequences: ids [B, T], lengths [B] (null = all length T). Returns float32 logits [B, T, V].
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? lengths = null)
    {
        using var scope = NewDisposeScope();
        long b = inputIds.shape[0], t = inputIds.shape[1];
        Tensor positions = arange(t, dtype: ScalarType.Int64, device: Device).unsqueeze(0).expand(b, t);
        Tensor mask = CausalMask(t, lengths, b);
        return Logits(Hidden(inputIds, positions, mask)).MoveToOuterDisposeScope();
    }

    /// <summary>Additive causal mask [B, 1, T, T] that also blocks keys at or beyond each row's length.</summary>
    public Tensor CausalMask(long t, Tensor? lengths, long batch)
    {
        using var scope = NewDisposeScope();
        Tensor idx = arange(t, dtype: ScalarType.Int64, device: Device);
        Tensor blocked = idx.unsqueeze(0) > idx.unsqueeze(1);                          // [T(query), T(key)]
        blocked = blocked.unsqueeze(0).expand(batch, t, t);
        if (lengths is not null)
        {
            Tensor padKey = idx.unsqueeze(0) >= lengths.to(Device).unsqueeze(1);      // [B, Tk]
            blocked = blocked.logical_or(padKey.unsqueeze(1));
        }
        Tensor mask = zeros([batch, t, t], dtype: ScalarType.Float32, device: Device).masked_fill(blocked, BlockedScalar);
        return mask.unsqueeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Number of parameters (tied weights once).</summary>
    public long ParameterCount() => parameters().Sum(p => p.NumberOfElements);
}

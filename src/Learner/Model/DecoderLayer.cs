using TorchSharp;
using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>Pre-norm transformer block: x + attn(norm(x)), then + mlp(norm(.)).</summary>
public sealed class DecoderLayer : nn.Module
{
    private readonly RmsNorm input_layernorm;
    private readonly Attention self_attn;
    private readonly RmsNorm post_attention_layernorm;
    private readonly Mlp mlp;

    public DecoderLayer(ModelConfig config, int layer, Device device, ScalarType dtype) : base(nameof(DecoderLayer))
    {
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        self_attn = new Attention(config, layer, device, dtype);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        mlp = new Mlp(config, device, dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCacheAccess? cache)
    {
        using var scope = NewDisposeScope();
        Tensor h = x + self_attn.Forward(Norm(input_layernorm, x, cache), cos, sin, mask, cache);
        return (h + mlp.ForwardWith(Norm(post_attention_layernorm, h, cache), cache)).MoveToOuterDisposeScope();
    }

    /// <summary>The norm's own forward, or the cache access's kernel for it (decode on the CPU).</summary>
    internal static Tensor Norm(RmsNorm norm, Tensor x, KvCacheAccess? cache) => cache is null ? norm.forward(x) : cache.Normalize(norm, x);
}

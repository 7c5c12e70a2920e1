using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>The transformer body ("model." in Hugging Face names): embeddings, layers, final norm.</summary>
public sealed class DecoderModel : nn.Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<DecoderLayer> layers;
    private readonly RmsNorm norm;
    private readonly ModelConfig _config;

    public DecoderModel(ModelConfig config, Device device, ScalarType dtype) : base(nameof(DecoderModel))
    {
        _config = config;
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype);
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, config.NumLayers).Select(i => new DecoderLayer(config, i, device, dtype)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        RegisterComponents();
    }

    public Tensor EmbeddingWeight => embed_tokens.weight!;

    /// <summary>Hidden states [B, T, D] for token ids [B, T] at positions [B, T].</summary>
    public Tensor Forward(Tensor inputIds, Tensor positions, Tensor mask, KvCacheAccess? cache)
    {
        using var scope = NewDisposeScope();
        Tensor h = embed_tokens.forward(inputIds);
        // The decode kernels rotate with their own table of angles: no cos/sin tensors for them.
        (Tensor cos, Tensor sin) = cache is { RotatesItself: true }
            ? (empty(0, dtype: h.dtype, device: h.device), empty(0, dtype: h.dtype, device: h.device))
            : RotaryEmbedding.Angles(positions, _config.HeadDim, _config.RopeTheta, h.dtype);
        foreach (DecoderLayer layer in layers)
        {
            h = layer.Forward(h, cos, sin, mask, cache);
        }
        return DecoderLayer.Norm(norm, h, cache).MoveToOuterDisposeScope();
    }
}

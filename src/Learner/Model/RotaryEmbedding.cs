using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>
/// Rotary position embeddings in Hugging Face's "rotate half" layout: inv_freq = theta^(-2i/d), the angle table is
/// concatenated with itself, and q' = q cos + rotate_half(q) sin. Angles are computed from explicit positions so that
/// sequences at different lengths can share one batch.
/// </summary>
public static class RotaryEmbedding
{
    /// <summary>cos and sin of shape [batch, 1, seq, headDim] for positions [batch, seq], in <paramref name="dtype"/>.</summary>
    public static (Tensor Cos, Tensor Sin) Angles(Tensor positions, int headDim, double theta, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor exponents = arange(0, headDim, 2, dtype: ScalarType.Int64, device: positions.device).to(ScalarType.Float32) / headDim;
        Tensor invFreq = 1.0f / pow(theta, exponents);                                     // [headDim/2]
        Tensor freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * invFreq;          // [B, T, headDim/2]
        Tensor emb = cat([freqs, freqs], -1).unsqueeze(1);                                 // [B, 1, T, headDim]
        return (emb.cos().to(dtype).MoveToOuterDisposeScope(), emb.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>x [B, heads, T, headDim] rotated by the angles.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        Tensor x1 = x.narrow(-1, 0, half);
        Tensor x2 = x.narrow(-1, half, half);
        Tensor rotated = cat([-x2, x1], -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}
